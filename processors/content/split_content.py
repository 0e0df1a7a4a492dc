"""SplitContent: splits content at each occurrence of a byte sequence, as claim ranges."""

from __future__ import annotations

import binascii
import uuid
from collections.abc import Iterator
from typing import BinaryIO

from flowengine import (
    AllowableValue,
    InputRequirement,
    ProcessContext,
    Processor,
    ProcessSession,
    PropertyDescriptor,
    Relationship,
    validators,
)

from ._text import CHUNK

__all__ = ["SplitContent", "fragment_attributes"]

HEX = "Hexadecimal"
TEXT = "Text"
TRAILING = "Trailing"
LEADING = "Leading"


def fragment_attributes(
    identifier: str, index: int, count: int, original_filename: str
) -> dict[str, str]:
    """NiFi's ``fragment.*`` and ``segment.original.filename`` attributes of a split."""
    return {
        "fragment.identifier": identifier,
        "fragment.index": str(index),
        "fragment.count": str(count),
        "segment.original.filename": original_filename,
    }


def _hex(value: str) -> str | None:
    try:
        binascii.unhexlify(value.strip())
    except (binascii.Error, ValueError):
        return f"{value!r} is not a valid hex string"
    return None


def find_all(stream: BinaryIO, needle: bytes) -> Iterator[int]:
    """Start offsets of the non-overlapping occurrences of ``needle``, left to right
    (NiFi's search restarts after each match), streamed in 1 MiB chunks."""
    keep = len(needle) - 1
    base = 0  # stream offset of buf[0]
    buf = b""
    pos = 0  # where the search resumes within buf
    while chunk := stream.read(CHUNK):
        buf = buf + chunk
        while (i := buf.find(needle, pos)) >= 0:
            yield base + i
            pos = i + len(needle)
        cut = max(pos, len(buf) - keep)
        base += cut
        buf = buf[cut:]
        pos = 0


class SplitContent(Processor):
    """Splits content at each occurrence of Byte Sequence; the splits are byte ranges
    of the original content (no copy).

    The sequence is dropped unless Keep Byte Sequence, then it stays at the end of the
    split before it (Trailing) or the start of the split after it (Leading). Empty
    splits are not emitted. Content without the sequence goes to ``splits`` unchanged
    (a clone, without fragment attributes), as in NiFi.
    """

    tags = ("content", "split", "binary")
    input_requirement = InputRequirement.REQUIRED
    writes_attributes = {
        "fragment.identifier": "the same random id for all splits of one FlowFile "
        "(also on the original)",
        "fragment.index": "1-based position of the split",
        "fragment.count": "number of splits (also on the original)",
        "segment.original.filename": "filename of the split FlowFile",
    }

    FORMAT = PropertyDescriptor(
        "byte_sequence_format",
        "How Byte Sequence is written.",
        display_name="Byte Sequence Format",
        default=HEX,
        required=True,
        allowable_values=(
            AllowableValue(HEX, HEX, "The Byte Sequence is hex digits"),
            AllowableValue(TEXT, TEXT, "The Byte Sequence is UTF-8 text"),
        ),
    )
    BYTE_SEQUENCE = PropertyDescriptor(
        "byte_sequence",
        "The bytes to split at.",
        display_name="Byte Sequence",
        required=True,
        validators=(validators.NON_EMPTY,),
    )
    KEEP_SEQUENCE = PropertyDescriptor(
        "keep_byte_sequence",
        "Keep the Byte Sequence in the splits.",
        display_name="Keep Byte Sequence",
        default="false",
        required=True,
        validators=(validators.BOOLEAN,),
    )
    LOCATION = PropertyDescriptor(
        "byte_sequence_location",
        "With Keep Byte Sequence: which split keeps the sequence.",
        display_name="Byte Sequence Location",
        default=TRAILING,
        required=True,
        allowable_values=(
            AllowableValue(TRAILING, TRAILING, "At the end of the split before it"),
            AllowableValue(LEADING, LEADING, "At the start of the split after it"),
        ),
    )

    SPLITS = Relationship("splits", "The splits")
    ORIGINAL = Relationship("original", "The input FlowFile")

    def custom_validate(self, context: ProcessContext) -> list[str]:
        if context.property(self.FORMAT).value == HEX:
            err = _hex(context.property(self.BYTE_SEQUENCE).value or "")
            if err:
                return [f"Byte Sequence: {err}"]
        return []

    def on_scheduled(self, context: ProcessContext) -> None:
        raw = context.property(self.BYTE_SEQUENCE).value or ""
        if context.property(self.FORMAT).value == HEX:
            self._needle = binascii.unhexlify(raw.strip())
        else:
            self._needle = raw.encode("utf-8")
        keep = bool(context.property(self.KEEP_SEQUENCE).as_bool())
        leading = context.property(self.LOCATION).value == LEADING
        self._keep_trailing = keep and not leading
        self._keep_leading = keep and leading

    def _ranges(self, stream: BinaryIO, size: int) -> list[tuple[int, int]]:
        n = len(self._needle)
        ranges: list[tuple[int, int]] = []
        start = 0
        for hit in find_all(stream, self._needle):
            end = hit + n if self._keep_trailing else hit
            begin = start - n if self._keep_leading and start > 0 else start
            ranges.append((begin, end - begin))
            start = hit + n
        if not ranges:
            return []
        last_begin, last_len = ranges[-1]
        final = last_begin + last_len
        if not (self._keep_trailing or self._keep_leading):
            final += n
        if final < size:
            ranges.append((final, size - final))
        return [r for r in ranges if r[1] > 0]

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        for ff in session.get(context.batch_size):
            with session.open(ff) as stream:
                ranges = self._ranges(stream, ff.size)
            if not ranges:
                session.transfer(session.clone(ff), self.SPLITS)
                session.transfer(ff, self.ORIGINAL)
                continue
            ident = str(uuid.uuid4())
            name = ff.get("filename") or ""
            out = [
                session.put_attributes(
                    session.clone(ff, off, ln),
                    fragment_attributes(ident, i, len(ranges), name),
                )
                for i, (off, ln) in enumerate(ranges, 1)
            ]
            session.transfer(out, self.SPLITS)
            ff = session.put_attributes(
                ff, {"fragment.identifier": ident, "fragment.count": str(len(ranges))}
            )
            session.transfer(ff, self.ORIGINAL)

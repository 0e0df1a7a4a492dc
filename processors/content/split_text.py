"""SplitText: splits text into FlowFiles of up to N lines, as byte ranges of the input."""

from __future__ import annotations

import re
import uuid
from itertools import islice
from typing import Any, BinaryIO

from flowengine import (
    InputRequirement,
    ProcessContext,
    Processor,
    ProcessSession,
    PropertyDescriptor,
    Relationship,
    validators,
)

from ._text import CHUNK, iter_line_spans, read_prefix
from .split_content import fragment_attributes

__all__ = ["SplitText"]


_NL = re.compile(b"\n")


class _TooFewHeaderLines(ValueError):
    pass


class SplitText(Processor):
    """Splits a text FlowFile into FlowFiles of at most Line Split Count lines.

    Lines end with ``\\n``, ``\\r\\n`` or ``\\r``. A split also ends before it would
    grow past Maximum Fragment Size (a single longer line is a split of its own).
    Without header lines each split is a *byte range of the original content* (no copy);
    with Header Line Count (or, when that is 0, leading lines starting with Header Line
    Marker Characters) every split starts with the header. Remove Trailing Newlines
    trims the line endings at the end of each split, and a split of only line endings
    is then not emitted (one with a header always is). Content with fewer lines than
    the header needs goes to ``failure``. Memory stays flat in the input size: the
    content is scanned once in 1 MiB chunks.
    """

    tags = ("split", "text")
    input_requirement = InputRequirement.REQUIRED
    writes_attributes = {
        "text.line.count": "number of lines of the split, header lines excluded",
        "fragment.size": "size of the split in bytes, header included",
        "fragment.identifier": "the same random id for all splits of one FlowFile",
        "fragment.index": "1-based position of the split",
        "fragment.count": "number of splits of the FlowFile",
        "segment.original.filename": "filename of the split FlowFile",
        "error.message": "why the FlowFile went to failure",
    }
    example = """\
split:
  type: SplitText
  properties:
    Line Split Count: 10000
    Header Line Count: 1
"""

    LINE_SPLIT_COUNT = PropertyDescriptor(
        "line_split_count",
        "Lines per split (header lines not counted). 0 splits by Maximum Fragment "
        "Size alone, which must then be set.",
        display_name="Line Split Count",
        required=True,
        validators=(validators.NON_NEGATIVE_INTEGER,),
    )
    FRAGMENT_MAX_SIZE = PropertyDescriptor(
        "maximum_fragment_size",
        "Largest size of a split (header included); a split ends at the line before "
        "this would be exceeded.",
        display_name="Maximum Fragment Size",
        validators=(validators.DATA_SIZE,),
    )
    HEADER_LINE_COUNT = PropertyDescriptor(
        "header_line_count",
        "Number of lines at the start of the content that make the header, "
        "repeated at the start of each split.",
        display_name="Header Line Count",
        default="0",
        required=True,
        validators=(validators.NON_NEGATIVE_INTEGER,),
    )
    HEADER_MARKER = PropertyDescriptor(
        "header_line_marker_characters",
        "Leading lines starting with these characters make the header (used only "
        "when Header Line Count is 0).",
        display_name="Header Line Marker Characters",
    )
    REMOVE_TRAILING_NEWLINES = PropertyDescriptor(
        "remove_trailing_newlines",
        "Remove the line endings at the end of each split; a split of only line "
        "endings is then not emitted. Set false if the splits are merged again.",
        display_name="Remove Trailing Newlines",
        default="true",
        required=True,
        validators=(validators.BOOLEAN,),
    )

    ORIGINAL = Relationship("original", "The input FlowFile, once split")
    SPLITS = Relationship("splits", "The splits")
    FAILURE = Relationship(
        "failure", "FlowFiles that cannot be split (fewer lines than the header)"
    )

    def custom_validate(self, context: ProcessContext) -> list[str]:
        count = context.property(self.LINE_SPLIT_COUNT).as_int()
        if count == 0 and not context.property(self.FRAGMENT_MAX_SIZE).is_set:
            return ["Line Split Count 0 requires Maximum Fragment Size"]
        return []

    def on_scheduled(self, context: ProcessContext) -> None:
        self._lines = context.property(self.LINE_SPLIT_COUNT).as_int() or 0
        self._max_size = context.property(self.FRAGMENT_MAX_SIZE).as_data_size()
        self._header_count = context.property(self.HEADER_LINE_COUNT).as_int() or 0
        marker = context.property(self.HEADER_MARKER).value
        self._marker = marker.encode("utf-8") if marker else None
        self._trim = bool(context.property(self.REMOVE_TRAILING_NEWLINES).as_bool())

    # -- planning: one pass over the content, recording byte ranges --------------------
    def _plan(
        self, stream: BinaryIO, peek: BinaryIO | None = None
    ) -> tuple[int, list[tuple[int, int, int, int]], int]:
        """(header length, [(start, end, trimmed_end, lines)], total lines).

        ``peek``, a second handle on the content, reads the start of a line when
        Header Line Marker Characters must be compared (the scanner reads ahead)."""
        max_lines = self._lines or None
        max_size = self._max_size
        header_end = 0
        header_lines = 0
        want = self._header_count
        marker = self._marker if want == 0 else None
        in_header = want > 0 or marker is not None
        splits: list[tuple[int, int, int, int]] = []
        start = 0  # start of the current split
        lines = 0  # lines in it
        last_text_end = 0  # end of the last line holding more than a line ending
        pos = 0  # end of the last line
        total = 0
        for text_end, end in iter_line_spans(stream):
            line_start = pos
            total += 1
            if in_header:
                if want > 0:
                    header_lines += 1
                    header_end = end
                    pos = end
                    if header_lines == want:
                        in_header = False
                    start = end
                    last_text_end = end
                    continue
                assert marker is not None
                if peek is not None and _starts_with(peek, line_start, marker):
                    header_end = end
                    header_lines += 1
                    pos = end
                    start = end
                    last_text_end = end
                    continue
                in_header = False
            size_limit_hit = (
                max_size is not None
                and lines > 0
                and header_end + (end - start) > max_size
            )
            if size_limit_hit:
                splits.append((start, line_start, last_text_end, lines))
                start = line_start
                lines = 0
                last_text_end = line_start
            lines += 1
            if text_end > line_start:
                last_text_end = text_end
            pos = end
            if max_lines is not None and lines == max_lines:
                splits.append((start, end, last_text_end, lines))
                start = end
                lines = 0
                last_text_end = end
        if in_header and want > 0 and header_lines < want:
            raise _TooFewHeaderLines(
                f"the content has {header_lines} line(s); Header Line Count is {want}"
            )
        if lines:
            splits.append((start, pos, last_text_end, lines))
        return header_end, splits, total - header_lines

    def _plan_fast(
        self, stream: BinaryIO
    ) -> tuple[int, list[tuple[int, int, int]]] | None:
        """The common case (Line Split Count only, ``\n`` endings) at C speed: skip
        to every Nth newline with ``finditer`` + ``islice``. Returns (header length,
        [(start, end, lines)]), or None as soon as a ``\r`` shows up (the general
        scanner then takes over from the start)."""
        n = self._lines
        base = 0  # stream offset of chunk[0]
        start = 0  # stream offset where the current split starts
        need = n  # newlines still to see before the current split ends
        header_left = self._header_count
        header_end = 0
        splits: list[tuple[int, int, int]] = []
        last = b""
        while chunk := stream.read(CHUNK):
            if b"\r" in chunk:
                return None
            p = 0
            while header_left:
                i = chunk.find(b"\n", p)
                if i < 0:
                    break
                p = i + 1
                header_left -= 1
                header_end = start = base + p
            if not header_left:
                while chunk.count(b"\n", p) >= need:
                    m = next(islice(_NL.finditer(chunk, p), need - 1, None))
                    p = m.end()
                    splits.append((start, base + p, n))
                    start = base + p
                    need = n
                need -= chunk.count(b"\n", p)
            base += len(chunk)
            last = chunk[-1:]
        if header_left:
            raise _TooFewHeaderLines(
                f"the content has {self._header_count - header_left} line(s); "
                f"Header Line Count is {self._header_count}"
            )
        if start < base:
            splits.append((start, base, n - need + (last != b"\n")))
        return header_end, splits

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        for ff in session.get(context.batch_size):
            self._split(session, ff)

    def _split(self, session: ProcessSession, ff: Any) -> None:
        try:
            fast = None
            if (
                self._lines
                and self._max_size is None
                and (self._header_count or self._marker is None)
            ):
                with session.open(ff) as stream:
                    fast = self._plan_fast(stream)
            if fast is not None:
                header_end, ranges = fast
                with session.open(ff) as peek:
                    plan = [
                        (a, b, _text_end(peek, a, b) if self._trim else b, lines)
                        for a, b, lines in ranges
                    ]
            else:
                header_end, plan = self._plan_general(session, ff)
        except _TooFewHeaderLines as exc:
            ff = session.put_attribute(ff, "error.message", str(exc))
            session.transfer(ff, self.FAILURE)
            return
        self._emit(session, ff, header_end, plan)

    def _plan_general(
        self, session: ProcessSession, ff: Any
    ) -> tuple[int, list[tuple[int, int, int, int]]]:
        with session.open(ff) as stream:
            if self._marker is not None and self._header_count == 0:
                with session.open(ff) as peek:
                    header_end, plan, _ = self._plan(stream, peek)
            else:
                header_end, plan, _ = self._plan(stream)
        return header_end, plan

    def _emit(
        self,
        session: ProcessSession,
        ff: Any,
        header_end: int,
        plan: list[tuple[int, int, int, int]],
    ) -> None:
        header = b""
        if header_end:
            with session.open(ff) as stream:
                header = read_prefix(stream, header_end)
        ident = str(uuid.uuid4())
        name = ff.get("filename") or ""
        trim = self._trim
        kept: list[tuple[int, int, int]] = []
        for start, end, text_end, lines in plan:
            stop = text_end if trim else end
            if stop <= start and (trim and not header):
                continue  # only line endings: not emitted
            kept.append((start, max(stop, start), lines))
        out = []
        count = len(kept)
        for index, (start, stop, lines) in enumerate(kept, 1):
            if header:
                split = session.clone(ff, start, stop - start)
                split = session.rewrite(split, _prepend(header))
            else:
                split = session.clone(ff, start, stop - start)
            attrs = fragment_attributes(ident, index, count, name)
            attrs["text.line.count"] = str(lines)
            attrs["fragment.size"] = str(len(header) + stop - start)
            out.append(session.put_attributes(split, attrs))
        session.transfer(out, self.SPLITS)
        ff = session.put_attributes(
            ff, {"fragment.identifier": ident, "fragment.count": str(count)}
        )
        session.transfer(ff, self.ORIGINAL)


def _starts_with(peek: BinaryIO, offset: int, marker: bytes) -> bool:
    peek.seek(offset)
    return peek.read(len(marker)) == marker


def _text_end(peek: BinaryIO, start: int, end: int) -> int:
    """Where the range's trailing line endings begin (``start`` if it is all endings)."""
    look = 64
    while True:
        lo = max(start, end - look)
        peek.seek(lo)
        tail = peek.read(end - lo).rstrip(b"\r\n")
        if tail or lo == start:
            return lo + len(tail)
        look *= 4


def _prepend(header: bytes) -> Any:
    def copy(src: BinaryIO, dst: BinaryIO) -> None:
        dst.write(header)
        while chunk := src.read(CHUNK):
            dst.write(chunk)

    return copy

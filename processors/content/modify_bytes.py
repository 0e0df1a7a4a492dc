"""ModifyBytes: removes a byte range at the start and end of the content, or all of it."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import BinaryIO

from flowengine import (
    AllowableValue,
    ExpressionLanguageScope,
    InputRequirement,
    ProcessContext,
    Processor,
    ProcessSession,
    PropertyDescriptor,
    Relationship,
    validators,
)

__all__ = ["ModifyBytes"]

_CHUNK = 1 << 20

# Not a class attribute: it exists only when an offset uses Expression Language (see
# relationships_for), so a literal configuration has NiFi's relationships exactly.
_FAILURE = Relationship(
    "failure",
    "FlowFiles whose Start/End Offset expression did not evaluate to a data size "
    "(only when an offset uses Expression Language)",
)


class ModifyBytes(Processor):
    """Discards Start Offset bytes at the beginning and End Offset bytes at the end.

    Offsets are data sizes (``0 B``, ``10 B``, ``1 KB`` = 1024 bytes) and may use
    Expression Language. When they add up to the content size or more, or with Remove
    All Content, the content becomes empty. The kept range is streamed into the new
    content. NiFi has only ``success``; here an offset expression that does not evaluate
    to a data size sends the FlowFile to ``failure`` with ``error.message``, a
    relationship that exists only when an offset uses Expression Language.
    """

    tags = ("binary", "discard", "keep")
    input_requirement = InputRequirement.REQUIRED
    run_inline = False
    writes_attributes = {"error.message": "why an offset expression was invalid"}
    example = """\
strip_header:
  type: ModifyBytes
  properties: {start_offset: 16 B, end_offset: 0 B}
"""

    START_OFFSET = PropertyDescriptor(
        "start_offset",
        "Number of bytes removed at the beginning of the content.",
        display_name="Start Offset",
        default="0 B",
        required=True,
        validators=(validators.DATA_SIZE,),
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
    )
    END_OFFSET = PropertyDescriptor(
        "end_offset",
        "Number of bytes removed at the end of the content.",
        display_name="End Offset",
        default="0 B",
        required=True,
        validators=(validators.DATA_SIZE,),
        expression_language=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
    )
    REMOVE_ALL = PropertyDescriptor(
        "remove_all_content",
        "Remove all content, superseding Start Offset and End Offset.",
        display_name="Remove All Content",
        default="false",
        required=True,
        allowable_values=(AllowableValue("true"), AllowableValue("false")),
    )
    SUCCESS = Relationship("success", "Processed FlowFiles")

    @classmethod
    def relationships_for(
        cls, properties: Mapping[str, str | None], dynamic: Mapping[str, str]
    ) -> Sequence[Relationship]:
        offsets = (properties.get("start_offset"), properties.get("end_offset"))
        if any(v is not None and "${" in v for v in offsets):
            return [cls.SUCCESS, _FAILURE]
        return [cls.SUCCESS]

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        remove_all = bool(context.property(self.REMOVE_ALL).as_bool())
        start_pv = context.property(self.START_OFFSET)
        end_pv = context.property(self.END_OFFSET)
        for ff in session.get(context.batch_size):
            try:
                start = int(start_pv.evaluate(ff).as_data_size() or 0)
                end = int(end_pv.evaluate(ff).as_data_size() or 0)
            except ValueError as exc:
                ff = session.put_attribute(ff, "error.message", f"bad offset: {exc}")
                session.transfer(ff, _FAILURE)
                continue
            keep = 0 if remove_all else ff.size - start - end
            if keep <= 0:
                ff = session.write(ff, b"")
            elif start or end:
                ff = session.rewrite(
                    ff, functools.partial(_copy_range, skip=start, length=keep)
                )
            else:
                session.transfer(ff, self.SUCCESS)  # nothing removed: no new content
                continue
            session.provenance.modify_content(ff)
            session.transfer(ff, self.SUCCESS)


def _copy_range(src: BinaryIO, out: BinaryIO, skip: int, length: int) -> None:
    """Copy ``length`` bytes of ``src`` after the first ``skip``."""
    while skip:  # read past rather than seek: the stream may be a range of a claim
        skipped = len(src.read(min(skip, _CHUNK)))
        if not skipped:
            return
        skip -= skipped
    while length:
        chunk = src.read(min(length, _CHUNK))
        if not chunk:
            break
        out.write(chunk)
        length -= len(chunk)

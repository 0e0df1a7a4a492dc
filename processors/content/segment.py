"""SegmentContent: cuts content into fixed-size segments, as byte ranges of the input."""

from __future__ import annotations

import uuid

from flowengine import (
    InputRequirement,
    ProcessContext,
    Processor,
    ProcessSession,
    PropertyDescriptor,
    Relationship,
    validators,
)

from .split_content import fragment_attributes

__all__ = ["SegmentContent"]


class SegmentContent(Processor):
    """Segments content into pieces of Segment Size bytes (the last may be shorter).

    Each segment is a byte range of the original content (no copy) and carries both
    NiFi's ``segment.*`` and ``fragment.*`` attributes, so MergeContent's Defragment
    strategy can put the content back together. Empty content gives no segment.
    """

    tags = ("segment", "split")
    input_requirement = InputRequirement.REQUIRED
    writes_attributes = {
        "segment.identifier": "the same random id for all segments of one FlowFile",
        "segment.index": "1-based position of the segment",
        "segment.count": "number of segments",
        "fragment.identifier": "same as segment.identifier",
        "fragment.index": "same as segment.index",
        "fragment.count": "same as segment.count",
        "segment.original.filename": "filename of the segmented FlowFile",
    }

    SIZE = PropertyDescriptor(
        "segment_size",
        "Size of each segment.",
        display_name="Segment Size",
        required=True,
        validators=(validators.DATA_SIZE,),
    )
    SEGMENTS = Relationship("segments", "The segments")
    ORIGINAL = Relationship("original", "The input FlowFile")

    def custom_validate(self, context: ProcessContext) -> list[str]:
        if (context.property(self.SIZE).as_data_size() or 0) <= 0:
            return ["Segment Size must be greater than 0 B"]
        return []

    def on_scheduled(self, context: ProcessContext) -> None:
        self._size = context.property(self.SIZE).as_data_size() or 1

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        size = self._size
        for ff in session.get(context.batch_size):
            # segments only reference the content, but content that is gone must
            # fail here, not as dangling ranges downstream
            with session.open(ff):
                pass
            total = ff.size
            count = -(-total // size)
            ident = str(uuid.uuid4())
            name = ff.get("filename") or ""
            out = []
            for index in range(1, count + 1):
                off = (index - 1) * size
                seg = session.clone(ff, off, min(size, total - off))
                attrs = fragment_attributes(ident, index, count, name)
                attrs["segment.identifier"] = ident
                attrs["segment.index"] = str(index)
                attrs["segment.count"] = str(count)
                out.append(session.put_attributes(seg, attrs))
            session.transfer(out, self.SEGMENTS)
            session.transfer(ff, self.ORIGINAL)

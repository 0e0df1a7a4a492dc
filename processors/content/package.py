"""PackageFlowFile: a FlowFile's attributes and content as one FlowFile Stream v3."""

from __future__ import annotations

import shutil
from typing import BinaryIO

from flowengine import (
    FlowFile,
    InputRequirement,
    ProcessContext,
    Processor,
    ProcessSession,
    PropertyDescriptor,
    Relationship,
    validators,
)

from ._flowfile_stream import MIME_V3, write_header

__all__ = ["PackageFlowFile"]


class PackageFlowFile(Processor):
    """Packages FlowFiles, attributes and content, into NiFi's FlowFile Stream v3
    (``application/flowfile-v3``), which NiFi's UnpackContent and ListenHTTP read.

    Up to Maximum Batch Size FlowFiles taken in one trigger go into one package (best
    effort, as NiFi); the package inherits their common attributes. Content is streamed.
    """

    tags = (
        "flowfile",
        "flowfile-stream",
        "flowfile-stream-v3",
        "package",
        "attributes",
    )
    input_requirement = InputRequirement.REQUIRED
    run_inline = False
    writes_attributes = {"mime.type": "application/flowfile-v3"}
    example = """\
package:
  type: PackageFlowFile
  properties:
    maximum_batch_size: 100
"""

    BATCH_SIZE = PropertyDescriptor(
        "maximum_batch_size",
        "FlowFiles to package into one output FlowFile (best effort).",
        display_name="Maximum Batch Size",
        aliases=("max-batch-size",),
        required=True,
        default="1",
        validators=(validators.integer_range(1, 10_000),),
    )

    SUCCESS = Relationship("success", "The packaged FlowFile")
    ORIGINAL = Relationship("original", "The FlowFiles that were packaged")

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        n = int(context.property(self.BATCH_SIZE).as_int() or 1)
        flowfiles: list[FlowFile] = session.get(n)
        if not flowfiles:
            return

        def write(out: BinaryIO) -> None:
            for ff in flowfiles:
                write_header(out, dict(ff.attributes), ff.size)
                with session.open(ff) as src:
                    shutil.copyfileobj(src, out, 1 << 16)

        package = session.write(session.create(flowfiles), write)
        package = session.put_attribute(package, "mime.type", MIME_V3)
        session.transfer(package, self.SUCCESS)
        session.transfer(flowfiles, self.ORIGINAL)

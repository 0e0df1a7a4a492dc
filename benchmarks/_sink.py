"""AppendToFile: the benchmark's sink, appending every FlowFile's content to one file.

There is no built-in "append everything to one file" processor (NiFi would use
MergeContent → PutFile); this is the smallest processor a user would write for it,
and it uses only the public processor API, so it pays the same per-FlowFile costs as
any plugin would.
"""

from __future__ import annotations

import time
from typing import Any

from flowengine import (
    InputRequirement,
    ProcessContext,
    Processor,
    ProcessSession,
    PropertyDescriptor,
    Relationship,
)

__all__ = ["AppendToFile"]


class AppendToFile(Processor):
    """Appends the content of every FlowFile to the file named by ``path``.

    Written FlowFiles go to ``success`` (auto-terminate it to drop them).
    """

    input_requirement = InputRequirement.REQUIRED
    trigger_serially = True

    PATH = PropertyDescriptor(
        "path", "File to append to (truncated when scheduled).", required=True
    )
    SUCCESS = Relationship("success", "FlowFiles whose content was written")

    def on_scheduled(self, context: ProcessContext) -> None:
        self._out: Any = open(context.property(self.PATH).value or "", "wb")  # noqa: SIM115

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        flowfiles = session.get(context.batch_size)
        if not flowfiles:
            return
        read = session.read
        self._out.write(b"".join([read(ff) for ff in flowfiles]))
        session.transfer(flowfiles, self.SUCCESS)

    def on_stopped(self, context: ProcessContext) -> None:
        out, self._out = self._out, None
        if out is not None:
            out.close()


class SlowSink(Processor):
    """Streams every FlowFile's content to nowhere, ``delay`` seconds per FlowFile.

    A sink slower than its producers makes back pressure engage: the soak workload uses
    it to show that queues, not memory, absorb the difference.
    """

    input_requirement = InputRequirement.REQUIRED

    DELAY = PropertyDescriptor(
        "delay", "Seconds to spend on each FlowFile.", default="0.004", required=True
    )
    SUCCESS = Relationship("success", "FlowFiles whose content was read")

    def on_scheduled(self, context: ProcessContext) -> None:
        self._delay = float(context.property(self.DELAY).value or 0)

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        flowfiles = session.get(context.batch_size)
        for ff in flowfiles:
            with session.open(ff) as src:
                while src.read(1 << 20):
                    pass
        if flowfiles:
            time.sleep(self._delay * len(flowfiles))
            session.transfer(flowfiles, self.SUCCESS)


class InlineAppendToFile(AppendToFile):
    """AppendToFile run on the event loop thread (``run_inline``): its trigger is one
    buffered write of a batch, short enough for the loop, and it saves the worker-thread
    hop the benchmark measures separately."""

    run_inline = True

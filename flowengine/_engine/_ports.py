"""Ports and funnels: the engine's own tiny processors.

Input and output ports move FlowFiles across group boundaries; funnels merge connections.
Each takes up to a batch from its queues and passes it on unchanged (NiFi: up to 1,000 per
call, no provenance for a single destination). Root ports are where an embedding program
feeds inputs in and collects outputs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .._api._context import ProcessContext
from .._api._flowfile import FlowFile
from .._api._processor import Processor
from .._api._relationship import Relationship
from .._api._session import ProcessSession

__all__ = ["Funnel", "InputPort", "OutputPort", "RootInputPort", "RootOutputPort"]

Input = bytes | str | tuple[bytes | str, dict[str, str]]


class _PassThrough(Processor):
    """Passes FlowFiles on unchanged."""

    SUCCESS = Relationship("success")
    run_inline = True

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        flowfiles = session.get(context.batch_size)
        if flowfiles:
            session.transfer(flowfiles, self.SUCCESS)


class Funnel(_PassThrough):
    """Merges several connections into one."""


class InputPort(_PassThrough):
    """A group's way in."""


class OutputPort(_PassThrough):
    """A group's way out."""


class RootInputPort(Processor):
    """The flow's way in from an embedding program: creates FlowFiles from given inputs."""

    SUCCESS = Relationship("success")
    run_inline = True

    def __init__(self, inputs: Sequence[Input] = ()) -> None:
        self._pending = list(inputs)
        self._pos = 0

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        end = min(self._pos + context.batch_size, len(self._pending))
        for item in self._pending[self._pos : end]:
            if isinstance(item, tuple):
                data, attrs = item
            else:
                data, attrs = item, {}
            ff = session.create()
            ff = session.write(ff, data)
            if attrs:
                ff = session.put_attributes(
                    ff, {str(k): str(v) for k, v in attrs.items()}
                )
            session.provenance.receive(ff, f"flowengine://input-port/{context.name}")
            session.transfer(ff, self.SUCCESS)
        self._pos = end
        if self._pos >= len(self._pending):
            self._pending = []
            self._pos = 0
            context.exhausted()


class RootOutputPort(Processor):
    """The flow's way out to an embedding program.

    FlowFiles that arrive are handed to ``collect`` (which keeps a reference to their
    content) and leave the flow with a DROP event naming the port.
    """

    run_inline = True

    def __init__(self, collect: Callable[[list[FlowFile]], Any] | None = None) -> None:
        self._collect = collect

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        flowfiles = session.get(context.batch_size)
        if not flowfiles:
            return
        if self._collect is not None:
            self._collect(flowfiles)
        reason = f"Delivered to output port '{context.name}'"
        session.remove(
            [session.put_attribute(ff, "discard.reason", reason) for ff in flowfiles]
        )

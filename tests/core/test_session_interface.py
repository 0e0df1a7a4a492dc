"""The session as a plugin contract: a public interface apart from the engine's session.

Processors program against :class:`flowengine.ProcessSession`, an abstract interface;
the engine hands them a ``StandardProcessSession``. These tests pin that split: the
interface cannot be instantiated, declares and documents every public member the engine
implements, and is what a trigger receives.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest

import flowengine
from flowengine import ProcessContext, Processor, ProcessSession, Relationship
from flowengine._api._session import ProvenanceReporter
from flowengine._engine._standard_session import StandardProcessSession
from flowengine.testing import TestRunner


def public(cls: type[Any]) -> set[str]:
    return {n for n in dir(cls) if not n.startswith("_")}


def test_the_interface_is_public_and_abstract() -> None:
    """``flowengine.ProcessSession`` is the interface, reported as a public name; it
    cannot be built, and the engine's session implements all of it."""
    assert flowengine.ProcessSession is ProcessSession
    assert ProcessSession.__module__ == "flowengine"
    with pytest.raises(TypeError, match="abstract"):
        ProcessSession()  # type: ignore[abstract]
    assert issubclass(StandardProcessSession, ProcessSession)
    assert not getattr(StandardProcessSession, "__abstractmethods__", frozenset())


def test_the_interface_declares_and_documents_every_public_member() -> None:
    """No public method of the engine's session is missing from the contract (a
    processor using it would depend on the engine), and each has its docstring there."""
    declared = public(ProcessSession) | set(ProcessSession.__annotations__)
    assert public(StandardProcessSession) - declared == set()
    undocumented = [
        n
        for n in public(ProcessSession)
        if not inspect.getdoc(getattr(ProcessSession, n))
    ]
    assert undocumented == []
    reporter = {n for n in public(ProvenanceReporter) if n != "enabled"}
    assert reporter >= {"receive", "send", "fetch", "route", "modify_content"}


def test_a_trigger_receives_the_interface_and_its_reporter() -> None:
    """What ``on_trigger`` gets is a ProcessSession with a ProvenanceReporter, and
    ``get()`` / ``get(n)`` keep their shapes (one FlowFile or None; a list)."""
    seen: list[Any] = []

    class Probe(Processor):
        SUCCESS = Relationship("success")

        def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
            one = session.get()
            many = session.get(5)
            seen.extend([session, one, many, session.get()])
            assert one is not None
            session.transfer([one, *many], self.SUCCESS)

    r = TestRunner(Probe)
    for data in (b"a", b"b", b"c"):
        r.enqueue(data)
    r.run()
    session, one, many, none = seen
    assert isinstance(session, ProcessSession)
    assert isinstance(session.provenance, ProvenanceReporter)
    assert isinstance(one, flowengine.FlowFile)
    assert isinstance(many, list) and len(many) == 2
    assert none is None
    assert isinstance(r.session(), ProcessSession)
    r.assert_transfer_count("success", 3)

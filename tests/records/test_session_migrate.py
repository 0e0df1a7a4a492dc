"""ProcessSession.migrate (added for MergeRecord): FlowFiles change sessions with their changes."""

from __future__ import annotations

from typing import Any, ClassVar

from flowengine import ProcessContext, Processor, ProcessSession, Relationship
from flowengine.testing import TestRunner


class Holder(Processor):
    """Moves every FlowFile into a held session; releases all on the third trigger."""

    SUCCESS = Relationship("success")
    trigger_when_empty = True
    held: ClassVar[list[Any]] = []

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        for ff in session.get(10):
            ff = session.put_attribute(ff, "touched", "yes")
            bin_session = context.new_session()
            session.migrate(bin_session, [ff])
            self.held.append((bin_session, ff))
        if len(self.held) == 3:
            for s, ff in self.held:
                s.transfer(ff, "success")
                s.commit()
            self.held.clear()


def test_migrated_flowfiles_commit_with_their_new_session() -> None:
    """The trigger session commits empty; each held session later delivers its FlowFile
    with the changes made before the move."""
    Holder.held.clear()
    r = TestRunner(Holder)
    r.enqueue(b"a")
    r.enqueue(b"b")
    r.run(1, stop_on_finish=False)
    assert r.transfer_counts() == {}
    r.enqueue(b"c")
    r.run(1)
    out = r.flowfiles_for("success")
    assert sorted(f.content for f in out) == [b"a", b"b", b"c"]
    assert {f["touched"] for f in out} == {"yes"}
    assert r.queue_size() == 0


def test_rolling_back_a_held_session_returns_its_flowfile() -> None:
    """A held session that rolls back puts its FlowFile back in the queue."""
    Holder.held.clear()
    r = TestRunner(Holder)
    r.enqueue(b"x", {"k": "v"})
    r.run(1, stop_on_finish=False)
    session, _ = Holder.held.pop()
    session.rollback()
    assert r.queue_size() == 1

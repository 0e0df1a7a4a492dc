"""ProcessSession: NiFi's transaction contract, pinned one behaviour at a time."""

from __future__ import annotations

import io
import re

import pytest

from flowengine import FlowEngineError, Processor, ProcessSession, Relationship
from flowengine._api._provenance import ProvenanceEventType as E
from flowengine._errors import FlowFileHandlingError
from flowengine.testing import TestRunner


class TwoWay(Processor):
    """success / failure, used as a container for session tests."""

    SUCCESS = Relationship("success")
    FAILURE = Relationship("failure")


def runner() -> TestRunner:
    return TestRunner(TwoWay)


def types_of(r: TestRunner) -> list[str]:
    return [str(e.event_type) for e in r.provenance_events()]


def test_nothing_visible_before_commit_then_all_at_once() -> None:
    """Transfers reach the downstream queue only at commit, all together."""
    r = runner()
    r.enqueue(b"a")
    r.enqueue(b"b")
    s = r.session()
    got = s.get(10)
    s.transfer(got, "success")
    r.collect()
    assert r.transfer_count("success") == 0
    s.commit()
    r.collect()
    assert [f.content for f in r.flowfiles_for("success")] == [b"a", b"b"]


def test_rollback_restores_originals_to_their_queue() -> None:
    """Rollback undoes attribute and content changes and requeues the original."""
    r = runner()
    r.enqueue(b"orig", {"k": "v"})
    s = r.session()
    ff = s.get()
    ff = s.put_attribute(ff, "k", "changed")
    ff = s.write(ff, b"new content")
    s.rollback()
    assert r.queue_size() == 1
    s2 = r.session()
    again = s2.get()
    assert again.get("k") == "v"
    assert s2.read(again) == b"orig"


def test_rollback_penalize_holds_flowfiles_back() -> None:
    """rollback(penalize=True) requeues penalized: not polled until the penalty ends."""
    r = runner()
    r.enqueue(b"x")
    s = r.session()
    s.get()
    s.rollback(penalize=True)
    assert r.penalized_count() == 1
    assert r.session().get() is None
    r.clock.advance(31)
    assert r.session().get() is not None


def test_penalize_travels_with_the_flowfile() -> None:
    """A penalized FlowFile transferred downstream stays penalized there."""
    r = runner()
    r.enqueue(b"x")
    s = r.session()
    ff = s.penalize(s.get())
    s.transfer(ff, "success")
    s.commit()
    r.collect()
    assert r.flowfiles_for("success")[0].is_penalized


def test_transfer_to_self_returns_to_the_original_queue_with_changes() -> None:
    """transfer(ff) without relationship puts it back, keeping modifications."""
    r = runner()
    r.enqueue(b"x")
    s = r.session()
    ff = s.put_attribute(s.get(), "seen", "1")
    s.transfer(ff)
    s.commit()
    s2 = r.session()
    assert s2.get().get("seen") == "1"


def test_transfer_to_self_of_a_created_flowfile_is_an_error() -> None:
    """A FlowFile created in the session has no queue to go back to."""
    s = runner().session()
    with pytest.raises(FlowFileHandlingError):
        s.transfer(s.create())


def test_unknown_relationship_is_an_error_at_transfer() -> None:
    """Transfer to a relationship the processor does not have fails immediately."""
    s = runner().session()
    with pytest.raises(FlowFileHandlingError, match="sucess"):
        s.transfer(s.create(), "sucess")


def test_commit_requires_every_flowfile_transferred_or_removed() -> None:
    """A FlowFile left without a destination fails the commit and rolls back."""
    r = runner()
    r.enqueue(b"x")
    s = r.session()
    s.get()
    with pytest.raises(
        FlowFileHandlingError, match="transfer relationship not specified"
    ):
        s.commit()
    assert r.queue_size() == 1  # rolled back, nothing lost


def test_using_a_transferred_flowfile_is_an_error() -> None:
    """Operations on a FlowFile already transferred raise and roll back."""
    r = runner()
    r.enqueue(b"x")
    s = r.session()
    ff = s.get()
    s.transfer(ff, "success")
    with pytest.raises(FlowFileHandlingError, match="already been transferred"):
        s.put_attribute(ff, "a", "b")
    assert r.queue_size() == 1


def test_uuid_cannot_be_changed_and_core_attributes_cannot_be_removed() -> None:
    """putAttribute('uuid') is ignored; uuid, filename, path survive removal."""
    s = runner().session()
    ff = s.create()
    uid = ff.uuid
    ff = s.put_attribute(ff, "uuid", "nope")
    ff = s.put_attributes(ff, {"uuid": "nope", "a": "1"})
    ff = s.remove_attributes(ff, re.compile(".*"))
    assert ff.uuid == uid
    assert set(ff.attributes) == {"uuid", "filename", "path"}
    s.remove(ff)
    s.commit()


def test_versions_are_immutable_and_attribute_changes_share_content() -> None:
    """Each change returns a new version; attribute changes never copy content."""
    r = runner()
    r.enqueue(b"content")
    s = r.session()
    v1 = s.get()
    v2 = s.put_attribute(v1, "a", "1")
    assert "a" not in v1.attributes and v2.get("a") == "1"
    assert v2.claim is v1.claim
    assert v2.uuid == v1.uuid and v2.id == v1.id
    with pytest.raises(TypeError):
        v2.attributes["b"] = "2"  # type: ignore[index]
    s.transfer(v2, "success")
    s.commit()


def test_fan_out_clones_to_every_connection(types) -> None:
    """A relationship with two connections delivers a clone (new uuid) to each."""
    import flowengine

    f = flowengine.Flow("fan")
    f.add_processor("src", types.Source, {"count": 3}, schedule={"max_triggers": 1})
    f.add_output_port("a")
    f.add_output_port("b")
    f.connect("src", "a")
    f.connect("src", "b")
    with f.run(timeout=10) as res:
        a, b = res.outputs["a"], res.outputs["b"]
        assert len(a) == len(b) == 3
        assert {x.uuid for x in a}.isdisjoint({y.uuid for y in b})
        assert sorted(res.read(x) for x in a) == sorted(res.read(y) for y in b)
        clones = [e for e in res.provenance.events() if e.event_type == E.CLONE]
        assert len(clones) == 3


def test_auto_terminated_relationship_drops_with_a_reason() -> None:
    """Transfer to an auto-terminated relationship is a DROP naming the relationship."""
    import flowengine

    f = flowengine.Flow("drop")
    f.add_processor(
        "gen", "GenerateFlowFile", {"custom_text": "x"}, schedule={"max_triggers": 1}
    )
    f.add_processor(
        "route",
        "RouteOnAttribute",
        {"never": "${literal('false')}"},
        auto_terminate=["never", "unmatched"],
    )
    f.connect("gen", "route")
    with f.run(timeout=10) as res:
        drops = [e for e in res.provenance.events() if e.event_type == E.DROP]
        assert [d.details for d in drops] == [
            "Auto-Terminated by unmatched Relationship"
        ]
        assert res.counts["route"].relationship_counts["unmatched"] == 1


def test_remove_of_a_created_flowfile_leaves_no_trace() -> None:
    """create() then remove() in one session emits no provenance at all."""
    r = runner()
    s = r.session()
    s.remove(s.create())
    s.commit()
    assert r.provenance_events() == []


def test_remove_of_a_queued_flowfile_is_a_drop_with_discard_reason() -> None:
    """remove() of a pulled FlowFile records DROP with its discard.reason."""
    r = runner()
    r.enqueue(b"x", {"discard.reason": "duplicate"})
    s = r.session()
    s.remove(s.get())
    s.commit()
    drops = [e for e in r.provenance_events() if e.event_type == E.DROP]
    assert drops[0].details == "duplicate"


def test_provenance_create_fork_join_clone_and_modifications() -> None:
    """The framework emits CREATE, FORK, JOIN, CLONE, CONTENT/ATTRIBUTES_MODIFIED."""
    r = runner()
    r.enqueue(b"parent")
    r.enqueue(b"other")
    s = r.session()
    p1, p2 = s.get(2)
    child = s.create(p1)
    joined = s.create([p1, p2])
    copy = s.clone(p2)
    p1 = s.write(p1, b"changed")
    p2 = s.put_attribute(p2, "k", "v")
    fresh = s.create()
    s.transfer([p1, p2, child, joined, copy, fresh], "success")
    s.commit()
    kinds = sorted(types_of(r))
    assert kinds == sorted(
        ["FORK", "JOIN", "CLONE", "CONTENT_MODIFIED", "ATTRIBUTES_MODIFIED", "CREATE"]
    )
    fork = next(e for e in r.provenance_events() if e.event_type == E.FORK)
    assert fork.child_uuids == (child.uuid,)
    join = next(e for e in r.provenance_events() if e.event_type == E.JOIN)
    assert set(join.parent_uuids) == {p1.uuid, p2.uuid}


def test_child_inherits_attributes_except_identity() -> None:
    """create(parent) copies attributes but gets a new uuid; lineage start is kept."""
    r = runner()
    r.enqueue(b"p", {"a": "1", "alternate.identifier": "x", "discard.reason": "y"})
    s = r.session()
    p = s.get()
    c = s.create(p)
    assert c.get("a") == "1" and c.uuid != p.uuid
    assert (
        "alternate.identifier" not in c.attributes
        and "discard.reason" not in c.attributes
    )
    assert c.lineage_start_date == p.lineage_start_date
    s.transfer([p, c], "success")
    s.commit()


def test_clone_range_references_part_of_the_content() -> None:
    """clone(ff, offset, length) shares the claim and reads the sub-range."""
    r = runner()
    r.enqueue(b"0123456789")
    s = r.session()
    ff = s.get()
    part = s.clone(ff, 2, 3)
    assert s.read(part) == b"234"
    assert part.claim is not None and part.claim.resource == ff.claim.resource
    with pytest.raises(ValueError, match="outside"):
        s.clone(ff, 8, 5)
    s.transfer([ff, part], "success")
    s.commit()


def test_content_streams_write_rewrite_append_export(tmp_path) -> None:
    """write (callback/chunks), rewrite, append, import_from and export_to stream."""
    r = runner()
    s = r.session()
    ff = s.write(s.create(), lambda out: out.write(b"abc"))
    ff = s.rewrite(ff, lambda i, o: o.write(i.read().upper()))
    ff = s.append(ff, [b"-", b"x"])
    assert s.read(ff) == b"ABC-x"
    src = tmp_path / "in.bin"
    src.write_bytes(b"from file")
    ff2 = s.import_from(src)
    dest = tmp_path / "out.bin"
    assert s.export_to(ff2, dest) == 9
    assert dest.read_bytes() == b"from file"
    with s.open(ff) as stream:
        assert stream.read(2) == b"AB"
    part = s.clone(ff2, 5, 4)  # a range of the imported content, exported alone
    out = io.BytesIO()
    assert s.export_to(part, out) == 4 and out.getvalue() == b"file"
    s.transfer([ff, ff2, part], "success")
    s.commit()
    r.collect()
    assert sorted(f.content for f in r.flowfiles_for("success")) == [
        b"ABC-x",
        b"file",
        b"from file",
    ]


def test_claims_are_released_when_flowfiles_leave() -> None:
    """Content of removed and replaced FlowFiles is released; nothing leaks."""
    r = runner()
    r.enqueue(b"one")
    s = r.session()
    ff = s.get()
    ff = s.write(ff, b"two")
    ff = s.write(ff, b"three")  # "two" was never visible: released at once
    s.remove(ff)
    s.commit()
    runtime, _ = r._ensure()
    assert runtime.content.resource_count() == 0


def test_auto_terminated_flowfiles_release_their_content() -> None:
    """Changed, unchanged and new FlowFiles dropped by auto-termination leak nothing."""
    import flowengine

    f = flowengine.Flow("leak")
    f.add_input_port("in")
    f.add_processor("a", "UpdateAttribute", {"x": "1"})
    f.add_processor(
        "b",
        "GenerateFlowFile",
        {"custom_text": "new"},
        schedule={"max_triggers": 1},
        auto_terminate=["success"],
    )

    @flowengine.transform
    def rewrite(flowfile: flowengine.FlowFile, content: bytes) -> bytes:
        return content + b"!"

    f.add_processor("c", rewrite, auto_terminate=["success", "failure"])
    f.connect("in", "a")
    f.connect("a", "c")
    seen: dict[str, object] = {}
    with f.run(
        inputs={"in": [b"one", b"two"]}, on_start=lambda rt: seen.update(rt=rt)
    ) as res:
        assert res.drained
        assert seen["rt"].content.resource_count() == 0  # type: ignore[attr-defined]


def test_rollback_releases_content_written_in_the_session() -> None:
    """Partial content written before a rollback is discarded."""
    r = runner()
    r.enqueue(b"keep")
    s = r.session()
    ff = s.get()
    s.write(ff, b"partial")
    s.write(s.create(), b"orphan")
    s.rollback()
    runtime, _ = r._ensure()
    assert runtime.content.resource_count() == 1  # only the queued original


def test_get_batch_comes_from_one_queue_and_respects_the_limit() -> None:
    """get(n) returns at most n FlowFiles."""
    r = runner()
    for i in range(5):
        r.enqueue(str(i))
    s = r.session()
    assert len(s.get(3)) == 3
    assert len(s.get(10)) == 2
    assert s.get(10) == []
    s.rollback()


def test_state_commits_with_the_session() -> None:
    """set_state is applied at commit and discarded by rollback."""
    r = runner()
    s = r.session()
    s.set_state({"k": "1"})
    s.rollback()
    assert r.state() == {}
    s.set_state({"k": "2"})
    s.commit()
    assert r.state() == {"k": "2"}


def test_flowengine_error_is_the_base_of_session_errors() -> None:
    """FlowFileHandlingError is a FlowEngineError."""
    assert issubclass(FlowFileHandlingError, FlowEngineError)
    assert ProcessSession is not None

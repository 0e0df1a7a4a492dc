"""GenerateFlowFile, UpdateAttribute, RouteOnAttribute, LogAttribute, LogMessage."""

from __future__ import annotations

import pytest

from flowengine.testing import TestRunner


def test_generate_custom_text_batch_and_attributes() -> None:
    """Custom text, batch size, dynamic attributes (with EL) and mime type."""
    r = TestRunner("GenerateFlowFile")
    r.set_property("custom_text", "hi ${literal('there')}")
    r.set_property("batch_size", "3")
    r.set_property("mime_type", "text/plain")
    r.set_property("name", "file-${uuid:substring(0,4)}")
    r.run()
    out = r.flowfiles_for("success")
    assert [f.content for f in out] == [b"hi there"] * 3
    assert all(
        f["mime.type"] == "text/plain" and f["name"] == "file-" + f["uuid"][:4]
        for f in out
    )
    assert [str(e.event_type) for e in r.provenance_events()] == ["CREATE"] * 3


@pytest.mark.parametrize(("fmt", "unique"), [("Text", "false"), ("Binary", "true")])
def test_generate_random_sizes(fmt: str, unique: str) -> None:
    """Random content has the configured size; unique makes each payload different."""
    r = TestRunner("GenerateFlowFile")
    r.set_property("file_size", "1 KB")
    r.set_property("data_format", fmt)
    r.set_property("unique_flowfiles", unique)
    r.set_property("batch_size", "2")
    r.run()
    a, b = (f.content for f in r.flowfiles_for("success"))
    assert len(a) == len(b) == 1024
    assert (a != b) == (unique == "true")


def test_update_attribute_sees_original_attributes_only() -> None:
    """All expressions use the incoming attributes, not each other's results."""
    r = TestRunner("UpdateAttribute")
    r.set_property("a", "new-a")
    r.set_property("b", "${a}")
    r.enqueue(b"", {"a": "old-a"})
    r.run()
    f = r.flowfiles_for("success")[0]
    assert (f["a"], f["b"]) == ("new-a", "old-a")


def test_update_attribute_delete_regex_wins_and_keeps_core() -> None:
    """Delete Attributes Expression removes matches, never uuid/filename/path."""
    r = TestRunner("UpdateAttribute")
    r.set_property("delete_attributes_expression", "tmp\\..*|filename")
    r.set_property("tmp.new", "x")
    r.enqueue(b"", {"tmp.a": "1", "keep": "2", "filename": "f.txt"})
    r.run()
    f = r.flowfiles_for("success")[0]
    assert "tmp.a" not in f.attributes and "tmp.new" not in f.attributes
    assert f["keep"] == "2" and f["filename"] == "f.txt"


def test_update_attribute_evaluation_error_rolls_back_and_keeps_running() -> None:
    """A FlowFile whose expression fails is rolled back (penalized); others still pass."""
    r = TestRunner("UpdateAttribute")
    r.set_property("n", "${value:toNumber():plus(1)}")
    r.set_property("d", "${when:toDate('yyyy-MM-dd')}")
    r.enqueue(b"", {"value": "1", "when": "2024-01-02"})
    r.run()
    r.assert_transfer_count("success", 1)
    r.enqueue(b"", {"value": "1", "when": "not a date"})
    r.run()
    assert r.queue_size() == 1 and r.penalized_count() == 1
    assert "not a date" in r.bulletins[-1].message or r.bulletins


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        ("Route to Property name", {"small": 2, "even": 2, "unmatched": 1}),
        ("Route to 'matched' if all match", {"matched": 1, "unmatched": 3}),
        ("Route to 'match' if any matches", {"matched": 3, "unmatched": 1}),
    ],
)
def test_route_on_attribute_strategies(strategy: str, expected: dict[str, int]) -> None:
    """Each routing strategy sends FlowFiles where NiFi would (clones when several match)."""
    r = TestRunner("RouteOnAttribute")
    r.set_property("routing_strategy", strategy)
    r.set_property("small", "${n:lt(3)}")
    r.set_property("even", "${n:mod(2):equals(0)}")
    for n in (1, 2, 4, 5):
        r.enqueue(b"", {"n": str(n)})
    r.run()
    assert r.transfer_counts() == expected
    for rel, ffs in r._collected.items():
        assert all(f["RouteOnAttribute.Route"] == rel for f in ffs)


def test_route_on_attribute_needs_a_condition() -> None:
    """Without any dynamic property RouteOnAttribute is invalid."""
    r = TestRunner("RouteOnAttribute")
    assert any("at least one condition" in p for p in r.validate())


def test_log_attribute_and_log_message_pass_through() -> None:
    """Logging processors route everything to success, unchanged."""
    for kind, props in (
        ("LogAttribute", {"log_payload": "true", "attributes_to_ignore": "uuid"}),
        ("LogMessage", {"log_message": "saw ${filename}", "log_level": "debug"}),
    ):
        r = TestRunner(kind)
        for k, v in props.items():
            r.set_property(k, v)
        r.enqueue(b"payload", {"filename": "x"})
        r.run()
        r.assert_all_transferred("success", 1)
        r.flowfiles_for("success")[0].assert_content_equals(b"payload")

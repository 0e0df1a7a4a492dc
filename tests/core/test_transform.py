"""The compact transform style and the TestRunner harness."""

from __future__ import annotations

import anyio
import anyio.lowlevel

import flowengine
from flowengine import FlowFile, PropertyDescriptor, Relationship, TransformResult
from flowengine.testing import TestRunner


@flowengine.transform
def shout(flowfile: FlowFile, content: bytes) -> bytes:
    """Upper-cases the content."""
    return content.upper()


SUFFIX = PropertyDescriptor("suffix", default="!")


@flowengine.transform(properties=[SUFFIX], relationships=[Relationship("empty")])
def classify(
    flowfile: FlowFile, content: bytes, context: flowengine.ProcessContext
) -> TransformResult:
    """Routes empty content to 'empty', else appends a suffix and tags the length."""
    if not content:
        return TransformResult(relationship="empty")
    suffix = context.property(SUFFIX).value or ""
    return TransformResult(
        content=content + suffix.encode(), attributes={"length": str(len(content))}
    )


@flowengine.transform
async def slow_tag(flowfile: FlowFile) -> dict[str, str]:
    """An async transform that only sets an attribute (content not read)."""
    await anyio.lowlevel.checkpoint()
    return {"tagged": flowfile.get("filename") or ""}


def test_bytes_in_bytes_out() -> None:
    """A function returning bytes replaces content and routes to success."""
    r = TestRunner(shout)
    r.enqueue(b"abc")
    r.run()
    r.assert_all_transferred("success", 1)
    r.flowfiles_for("success")[0].assert_content_equals(b"ABC")
    assert shout.type_name() == "Shout"
    assert "Upper-cases" in shout.description


def test_properties_relationships_and_results() -> None:
    """Declared properties and extra relationships work through TransformResult."""
    r = TestRunner(classify)
    r.set_property("suffix", "?")
    r.enqueue(b"hey")
    r.enqueue(b"")
    r.run()
    ok = r.flowfiles_for("success")[0]
    ok.assert_content_equals(b"hey?")
    ok.assert_attribute_equals("length", "3")
    assert r.transfer_count("empty") == 1


def test_exception_routes_to_failure_with_error_attributes() -> None:
    """A raising transform sends that FlowFile to failure; others continue."""

    @flowengine.transform
    def picky(flowfile: FlowFile, content: bytes) -> bytes:
        if content == b"bad":
            raise ValueError("cannot handle 'bad'")
        return content

    r = TestRunner(picky)
    for c in (b"good", b"bad", b"fine"):
        r.enqueue(c)
    r.run()
    assert r.transfer_counts() == {"success": 2, "failure": 1}
    bad = r.flowfiles_for("failure")[0]
    bad.assert_attribute_equals("error.message", "cannot handle 'bad'")
    bad.assert_attribute_equals("error.type", "ValueError")


def test_async_transform_without_content() -> None:
    """Async transforms run on the loop; without a content parameter nothing is read."""
    r = TestRunner(slow_tag)
    r.enqueue(b"x", {"filename": "a.txt"})
    r.run()
    r.flowfiles_for("success")[0].assert_attribute_equals("tagged", "a.txt")
    assert slow_tag.is_async()


def test_runner_validates_configuration() -> None:
    """assert_not_valid catches bad property values before any trigger."""
    r = TestRunner("UpdateAttribute")
    r.set_property("delete_attributes_expression", "([")
    r.assert_not_valid()
    assert any("invalid regular expression" in p for p in r.validate())


def test_transform_in_a_flow_by_module_reference() -> None:
    """A transform is usable as `type: module:function` in a flow."""
    f = flowengine.Flow("tr")
    f.add_input_port("in")
    f.add_output_port("out")
    f.add_processor("up", f"{__name__}:shout", auto_terminate=["failure"])
    f.connect("in", "up")
    f.connect("up", "out")
    with f.run(inputs={"in": [b"abc", (b"def", {"k": "v"})]}, timeout=10) as res:
        assert sorted(res.read(x) for x in res.outputs["out"]) == [b"ABC", b"DEF"]

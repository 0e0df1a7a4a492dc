"""SplitContent and SegmentContent: byte-sequence and fixed-size splits as claim ranges."""

from __future__ import annotations

import pytest
from flowengine.processors.content import split_content

from flowengine.testing import TestRunner


def _split(content: bytes, **props: str) -> TestRunner:
    runner = TestRunner("SplitContent")
    for key, value in props.items():
        runner.set_property(key, value)
    runner.enqueue(content, {"filename": "f.bin"})
    runner.run()
    return runner


def _contents(runner: TestRunner, rel: str = "splits") -> list[bytes]:
    return [ff.content for ff in runner.flowfiles_for(rel)]


def test_hex_sequence_is_dropped_by_default() -> None:
    """Byte Sequence Format defaults to Hexadecimal; the sequence is not kept."""
    runner = _split(b"ab\x00\x01cd\x00\x01ef", byte_sequence="0001")
    assert _contents(runner) == [b"ab", b"cd", b"ef"]
    splits = runner.flowfiles_for("splits")
    assert [ff["fragment.index"] for ff in splits] == ["1", "2", "3"]
    assert {ff["fragment.count"] for ff in splits} == {"3"}
    assert {ff["segment.original.filename"] for ff in splits} == {"f.bin"}
    original = runner.flowfiles_for("original")[0]
    original.assert_attribute_equals("fragment.count", "3")
    assert original["fragment.identifier"] == splits[0]["fragment.identifier"]


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("Trailing", [b"a||", b"b||", b"||", b"c"]),
        ("Leading", [b"a", b"||b", b"||", b"||c"]),
    ],
)
def test_keep_byte_sequence_trailing_or_leading(
    location: str, expected: list[bytes]
) -> None:
    """Kept sequences stay with the split before (Trailing) or after (Leading)."""
    runner = _split(
        b"a||b||||c",
        byte_sequence_format="Text",
        byte_sequence="||",
        keep_byte_sequence="true",
        byte_sequence_location=location,
    )
    assert _contents(runner) == expected


def test_empty_splits_are_not_emitted() -> None:
    """Adjacent, leading and trailing sequences make no empty splits (NiFi)."""
    runner = _split(b",,a,,,,b,,", byte_sequence_format="Text", byte_sequence=",,")
    assert _contents(runner) == [b"a", b"b"]


def test_no_match_sends_a_clone_to_splits() -> None:
    """Without the sequence, NiFi sends an unchanged clone (no fragment attributes)."""
    runner = _split(b"abc", byte_sequence_format="Text", byte_sequence="|")
    assert _contents(runner) == [b"abc"]
    runner.flowfiles_for("splits")[0].assert_attribute_not_exists("fragment.index")
    assert runner.transfer_counts() == {"splits": 1, "original": 1}


def test_splits_share_the_input_claim() -> None:
    """Each split is a byte range of the input's content claim."""
    runner = _split(b"xx--yy", byte_sequence_format="Text", byte_sequence="--")
    whole = runner.flowfiles_for("original")[0].flowfile.claim
    assert whole is not None
    for ff in runner.flowfiles_for("splits"):
        assert ff.flowfile.claim is not None
        assert ff.flowfile.claim.resource == whole.resource


def test_sequence_across_chunk_edges(monkeypatch: pytest.MonkeyPatch) -> None:
    """A sequence cut by the 1 MiB read boundary is still found."""
    monkeypatch.setattr(split_content, "CHUNK", 4)
    runner = _split(
        b"abc<SEP>defg<SEP><SEP>h", byte_sequence_format="Text", byte_sequence="<SEP>"
    )
    assert _contents(runner) == [b"abc", b"defg", b"h"]


def test_invalid_hex_is_rejected() -> None:
    """A Hexadecimal Byte Sequence that is not hex is a validation error."""
    runner = TestRunner("SplitContent")
    runner.set_property("Byte Sequence", "zz")
    assert any("hex" in p for p in runner.validate())


def test_segment_content() -> None:
    """Fixed-size segments with segment.* and fragment.* attributes, as claim ranges."""
    runner = TestRunner("SegmentContent")
    runner.set_property("Segment Size", "4 B")
    runner.enqueue(b"0123456789", {"filename": "big"})
    runner.enqueue(b"")
    runner.run()
    segs = runner.flowfiles_for("segments")
    assert [ff.content for ff in segs] == [b"0123", b"4567", b"89"]
    for i, ff in enumerate(segs, 1):
        assert ff["segment.index"] == ff["fragment.index"] == str(i)
        assert ff["segment.count"] == ff["fragment.count"] == "3"
        assert ff["segment.identifier"] == ff["fragment.identifier"]
        assert ff["segment.original.filename"] == "big"
    assert runner.transfer_counts() == {"segments": 3, "original": 2}


def test_segment_size_must_be_positive() -> None:
    """Segment Size 0 B is invalid."""
    runner = TestRunner("SegmentContent")
    runner.set_property("Segment Size", "0 B")
    runner.assert_not_valid()

"""SplitText: NiFi's line splitting, as byte ranges of the input claim."""

from __future__ import annotations

import io
import random
import tracemalloc

import pytest
from flowengine.processors.content import _text, split_text
from flowengine.processors.content._text import iter_line_spans
from flowengine.processors.content.split_text import SplitText

from flowengine.testing import TestRunner


def _run(content: bytes, **props: str) -> TestRunner:
    runner = TestRunner("SplitText")
    for key, value in props.items():
        runner.set_property(key, value)
    runner.enqueue(content, {"filename": "in.txt"})
    runner.run()
    return runner


def _splits(runner: TestRunner) -> list[bytes]:
    return [ff.content for ff in runner.flowfiles_for("splits")]


def test_splits_every_n_lines_and_writes_fragment_attributes() -> None:
    """5 lines by 2: three splits, trailing newlines removed, NiFi's attributes."""
    runner = _run(b"1\n2\n3\n4\n5\n", line_split_count="2")
    assert _splits(runner) == [b"1\n2", b"3\n4", b"5"]
    splits = runner.flowfiles_for("splits")
    ids = {ff["fragment.identifier"] for ff in splits}
    assert len(ids) == 1
    assert [ff["fragment.index"] for ff in splits] == ["1", "2", "3"]
    assert {ff["fragment.count"] for ff in splits} == {"3"}
    assert [ff["text.line.count"] for ff in splits] == ["2", "2", "1"]
    assert [ff["fragment.size"] for ff in splits] == ["3", "3", "1"]
    assert {ff["segment.original.filename"] for ff in splits} == {"in.txt"}
    original = runner.flowfiles_for("original")[0]
    original.assert_content_equals(b"1\n2\n3\n4\n5\n")
    original.assert_attribute_equals("fragment.identifier", ids.pop())
    original.assert_attribute_equals("fragment.count", "3")


def test_splits_are_ranges_of_the_original_claim() -> None:
    """Without a header no byte is copied: each split points into the input's claim."""
    runner = _run(
        b"aa\nbb\ncc\n", line_split_count="1", remove_trailing_newlines="false"
    )
    original = runner.flowfiles_for("original")[0].flowfile.claim
    assert original is not None
    claims = [ff.flowfile.claim for ff in runner.flowfiles_for("splits")]
    assert all(c is not None and c.resource == original.resource for c in claims)
    assert [(c.offset - original.offset, c.length) for c in claims if c] == [
        (0, 3),
        (3, 3),
        (6, 3),
    ]


def test_keeps_newlines_when_asked() -> None:
    """Remove Trailing Newlines false: splits can be concatenated back exactly."""
    content = b"a\r\nb\n\nc\rd"
    runner = _run(content, line_split_count="2", remove_trailing_newlines="false")
    assert _splits(runner) == [b"a\r\nb\n", b"\nc\r", b"d"]
    assert b"".join(_splits(runner)) == content


def test_splits_of_only_newlines_are_not_emitted() -> None:
    """NiFi: with Remove Trailing Newlines a split of only line endings is dropped,
    and fragment.count counts what is emitted."""
    runner = _run(b"a\n\n\n\nb\n", line_split_count="2")
    assert _splits(runner) == [b"a", b"b"]
    assert {ff["fragment.count"] for ff in runner.flowfiles_for("splits")} == {"2"}


def test_header_lines_start_every_split() -> None:
    """Header Line Count: the header is repeated, not counted in text.line.count."""
    runner = _run(
        b"id,name\n1,a\n2,b\n3,c\n", line_split_count="2", header_line_count="1"
    )
    assert _splits(runner) == [b"id,name\n1,a\n2,b", b"id,name\n3,c"]
    counts = [ff["text.line.count"] for ff in runner.flowfiles_for("splits")]
    assert counts == ["2", "1"]
    assert runner.flowfiles_for("splits")[1]["fragment.size"] == str(
        len(b"id,name\n3,c")
    )


def test_header_marker_characters() -> None:
    """With Header Line Count 0, leading lines starting with the marker are the header."""
    runner = _run(
        b"#h1\n#h2\nx\ny\n#not header\n",
        line_split_count="2",
        header_line_marker_characters="#",
    )
    assert _splits(runner) == [b"#h1\n#h2\nx\ny", b"#h1\n#h2\n#not header"]


def test_fewer_lines_than_the_header_goes_to_failure() -> None:
    """Content shorter than Header Line Count: failure with error.message, nothing lost."""
    runner = _run(b"only\n", line_split_count="1", header_line_count="3")
    runner.assert_all_transferred("failure", 1)
    failed = runner.flowfiles_for("failure")[0]
    failed.assert_content_equals(b"only\n")
    assert "Header Line Count is 3" in failed["error.message"]


def test_maximum_fragment_size_ends_splits_early() -> None:
    """A split ends before it would exceed Maximum Fragment Size; a longer line is
    a split of its own."""
    runner = _run(
        b"aaaa\nbb\ncc\nverylongline\nd\n",
        line_split_count="0",
        maximum_fragment_size="6 B",
    )
    assert _splits(runner) == [b"aaaa", b"bb\ncc", b"verylongline", b"d"]
    runner = _run(b"a\nb\nc\nd\n", line_split_count="3", maximum_fragment_size="4 B")
    assert _splits(runner) == [b"a\nb", b"c\nd"]


def test_line_split_count_zero_needs_a_fragment_size() -> None:
    """Line Split Count 0 without Maximum Fragment Size is invalid (NiFi's rule)."""
    runner = TestRunner("SplitText")
    runner.set_property("Line Split Count", "0")
    runner.assert_not_valid()
    TestRunner("SplitText").assert_not_valid()  # Line Split Count is required


def test_empty_content_gives_no_split() -> None:
    """Nothing to split: only the original."""
    runner = _run(b"", line_split_count="10")
    assert runner.transfer_counts() == {"original": 1}


def test_line_scanner_across_chunk_edges(monkeypatch: pytest.MonkeyPatch) -> None:
    """A \\r\\n split by a chunk edge is one line ending, not two."""
    monkeypatch.setattr(_text, "CHUNK", 3)
    data = b"ab\r\ncd\r\r\nxyz\r"
    spans = list(iter_line_spans(io.BytesIO(data)))
    assert spans == [(2, 4), (6, 7), (7, 9), (12, 13)]


@pytest.mark.parametrize("fast", [True, False])
def test_memory_is_flat_in_the_input_size(
    fast: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Planning the splits (either scanner) holds a chunk or two, not the input."""
    monkeypatch.setattr(_text, "CHUNK", 64 << 10)
    monkeypatch.setattr(split_text, "CHUNK", 64 << 10)
    lines = 800_000 if fast else 100_000  # tracemalloc slows the general scanner
    stream = io.BytesIO(b"".join(b"line %08d of some text\n" % i for i in range(lines)))
    proc = SplitText()
    proc._lines, proc._header_count, proc._marker, proc._trim = 10000, 0, None, True
    proc._max_size = None if fast else 1 << 30
    tracemalloc.start()
    if fast:
        result = proc._plan_fast(stream)
        assert result is not None
        plan = result[1]
    else:
        plan = proc._plan(stream)[1]
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(plan) == lines // 10000
    assert peak < 1 << 20, (peak, stream.getbuffer().nbytes)


@pytest.mark.parametrize("chunk", [1 << 20, 3])
def test_fast_and_general_scanners_agree(
    chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The \\n-only fast path plans exactly what the general scanner plans, also
    with lines and headers across chunk edges."""
    monkeypatch.setattr(_text, "CHUNK", chunk)
    monkeypatch.setattr(split_text, "CHUNK", chunk)
    rng = random.Random(7)
    for _ in range(12):
        lines = [b"x" * rng.randrange(0, 4) for _ in range(rng.randrange(0, 30))]
        content = b"\n".join(lines) + (b"\n" if rng.random() < 0.5 else b"")
        count = str(rng.randrange(1, 5))
        header = str(rng.randrange(0, 2))
        for trim in ("true", "false"):
            props = {
                "line_split_count": count,
                "header_line_count": header,
                "remove_trailing_newlines": trim,
            }
            fast = _run(content, **props)
            general = _run(content, maximum_fragment_size="1 GB", **props)
            assert fast.transfer_counts() == general.transfer_counts(), content
            assert _splits(fast) == _splits(general), (content, props)
            for a, b in zip(
                fast.flowfiles_for("splits"),
                general.flowfiles_for("splits"),
                strict=True,
            ):
                assert a["text.line.count"] == b["text.line.count"], (content, props)

"""Poison record input (issue 25): readers never raise unexpected exceptions; malformed
data goes to failure with ``record.error.message`` naming the line."""

from __future__ import annotations

from typing import Any

import pytest

from flowengine.testing import TestRunner

OUT = ("JsonRecordSetWriter", {"output_grouping": "output-oneline"})
PROCESSORS: list[tuple[str, dict[str, str], str]] = [
    ("ConvertRecord", {}, "success"),
    ("ValidateRecord", {}, "valid"),
    ("QueryRecord", {"q": "SELECT * FROM FLOWFILE"}, "q"),
]


def make(
    processor: str,
    props: dict[str, str],
    reader: tuple[str, dict[str, Any]] = ("JsonTreeReader", {}),
) -> TestRunner:
    r = TestRunner(processor)
    r.add_service("reader", reader[0], reader[1])
    r.add_service("writer", OUT[0], OUT[1])
    r.set_property("record_reader", "reader")
    r.set_property("record_writer", "writer")
    for k, v in props.items():
        r.set_property(k, v)
    return r


@pytest.mark.parametrize(
    "data",
    [b'[{"id": 1}, {"id": "x"}]', b'{"id": 1}\n{"id": "x"}\n'],
    ids=["array", "lines"],
)
@pytest.mark.parametrize(("processor", "props", "rel"), PROCESSORS)
def test_a_field_whose_type_changes_is_widened(
    processor: str, props: dict[str, str], rel: str, data: bytes
) -> None:
    """NiFi infers over the records and widens (a CHOICE type); here the field whose
    values have no common type is read as text, and a good FlowFile beside it flows."""
    r = make(processor, props)
    r.enqueue(data, {"filename": "mixed"})
    r.enqueue(b'{"id": 7}\n', {"filename": "good"})
    r.run()
    out = r.flowfiles_for(rel)
    assert [f["filename"] for f in out] == ["mixed", "good"]
    assert out[0].content == b'{"id":"1"}\n{"id":"x"}\n'
    assert out[1].content == b'{"id":7}\n'


def test_numbers_and_structs_widen_as_arrow_does() -> None:
    """int and double widen to double, struct fields merge, object vs array is text."""
    r = make("ConvertRecord", {})
    r.enqueue(
        b'{"id": 1, "o": {"a": 1}, "s": {"a": 1}}\n'
        b'{"id": 2.5, "o": [1], "s": {"b": "x"}}\n'
        b'{"id": "z", "o": null}\n'
    )
    r.run()
    (f,) = r.flowfiles_for("success")
    assert f.content.splitlines() == [
        b'{"id":"1","o":"{\\"a\\":1}","s":{"a":1,"b":null}}',
        b'{"id":"2.5","o":"[1]","s":{"a":null,"b":"x"}}',
        b'{"id":"z","o":null,"s":null}',
    ]


def test_mixed_numbers_become_double() -> None:
    r = make("ConvertRecord", {})
    r.enqueue(b'{"n": 1, "s": "a"}\n{"n": 2.5, "s": 3}\n')
    r.run()
    (f,) = r.flowfiles_for("success")
    assert f.content == b'{"n":1.0,"s":"a"}\n{"n":2.5,"s":"3"}\n'


@pytest.mark.parametrize(
    "data",
    [b"[" * 100_000, b'{"a": ' + b"[" * 100_000 + b"}\n", b'[{"a": ' + b"[" * 100_000],
    ids=["bare", "lines", "in-array"],
)
@pytest.mark.parametrize(("processor", "props", "rel"), PROCESSORS)
def test_deep_nesting_fails_with_a_reason(
    processor: str, props: dict[str, str], rel: str, data: bytes
) -> None:
    r = make(processor, props)
    r.enqueue(data, {"filename": "deep"})
    r.enqueue(b'{"id": 7}\n', {"filename": "good"})
    r.run()
    (bad,) = r.flowfiles_for("failure")
    assert bad["filename"] == "deep"
    # (ValidateRecord's failure holds the unreadable records, the others the original)
    # (an array's opening bracket is not part of its elements)
    if processor == "ValidateRecord":
        assert data.strip().endswith(bad.content.strip())
        assert len(bad.content) >= len(data) - 2
    else:
        assert bad.content == data
    assert "nested too deeply" in bad["record.error.message"]
    assert "line 1" in bad["record.error.message"]
    assert [f["filename"] for f in r.flowfiles_for(rel) if f.content] == ["good"]


@pytest.mark.parametrize(("processor", "props", "rel"), PROCESSORS)
def test_csv_unterminated_quote_merging_lines_fails_at_its_line(
    processor: str, props: dict[str, str], rel: str
) -> None:
    """With newlines in values not allowed (the default) a quote left open merges the
    next lines into one value of the right column count: that is failure, not data."""
    data = b'id,name,score\n0,ok,1\n1,"unterminated,1.5\n2,b,2.5\n3,x"y"z",3.5\n4,d,3\n'
    r = make(processor, props, ("CSVReader", {}))
    r.enqueue(data, {"filename": "bad"})
    r.enqueue(b"id,name,score\n7,g,1\n", {"filename": "good"})
    r.run()
    (bad,) = r.flowfiles_for("failure")
    assert bad["filename"] == "bad"
    msg = bad["record.error.message"]
    assert "line 3 (record 2): unterminated quote in field 'name'" in msg, msg
    assert "Allow Newlines in Values" in msg
    assert [f["filename"] for f in r.flowfiles_for(rel) if f.content] == ["good"]


def test_csv_line_breaks_in_values_pass_when_allowed() -> None:
    r = make("ConvertRecord", {}, ("CSVReader", {"allow_newlines_in_values": "true"}))
    r.enqueue(b'id,name\n1,"two\nlines"\n2,b\n')
    r.run()
    (f,) = r.flowfiles_for("success")
    assert f.content == b'{"id":1,"name":"two\\nlines"}\n{"id":2,"name":"b"}\n'


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (b"a,b\n" + b"x" * 5000 + b",1\n", 2),
        (b"a,b\n1,2\n3,4\n" + b"x" * 5000 + b",1\n5,6\n", 4),
        (b"a" * 5000 + b",b\n1,2\n", 1),
    ],
    ids=["first-record", "later-record", "header"],
)
@pytest.mark.parametrize(("processor", "props", "rel"), PROCESSORS)
def test_csv_line_longer_than_the_block_names_the_property(
    processor: str, props: dict[str, str], rel: str, data: bytes, line: int
) -> None:
    """Not "Empty CSV file": the line does not fit in a block, and Block Size raises it."""
    r = make(processor, props, ("CSVReader", {"block_size": "1 KB"}))
    r.enqueue(data, {"filename": "long"})
    r.run()
    (bad,) = r.flowfiles_for("failure")
    msg = bad["record.error.message"]
    assert f"line {line}: the line is longer than the Block Size (1 KB)" in msg, msg
    assert "Block Size property" in msg


@pytest.mark.slow
def test_csv_500_mb_single_line_names_the_block_size(tmp_path: Any) -> None:
    r = make("ConvertRecord", {}, ("CSVReader", {}))
    r.enqueue(b"a,b\n" + b"x" * (500 << 20) + b",1\n")
    r.run()
    (bad,) = r.flowfiles_for("failure")
    msg = bad["record.error.message"]
    assert "line 2: the line is longer than the Block Size (1 MB)" in msg, msg


def _one_big_object(mb: int, array: bool) -> bytes:
    obj = b'{"id": 1, "big": "' + b"x" * (mb << 20) + b'"}'
    return b"[" + obj + b"]" if array else obj + b"\n"


def _fails_over_max_string_length(data: bytes, rss_bound_mb: int) -> None:
    """Repeated attempts: each goes to failure with Max String Length as the reason,
    and the process's memory does not grow from one to the next."""
    import gc

    import psutil

    proc = psutil.Process()
    gc.collect()
    # the bound is on what this test adds: the process's own RSS depends on the tests
    # that ran before it (633 MB once in a loaded full run against an absolute 600 MB)
    baseline = proc.memory_info().rss
    rss: list[int] = []
    for _ in range(4):  # (the first round warms the allocator: growth counts after it)
        for processor, props, _rel in PROCESSORS:
            r = make(processor, props)
            r.enqueue(data)
            r.run()
            (bad,) = r.flowfiles_for("failure")
            msg = bad["record.error.message"]
            assert "line 1" in msg and "longer than Max String Length (20 MB)" in msg
            del r, bad
        gc.collect()
        rss.append(proc.memory_info().rss)
    growth = (rss[-1] - rss[1]) >> 20
    assert growth < 100, f"RSS grew {growth} MB over retries: {rss}"
    added = (rss[-1] - baseline) >> 20
    assert added < rss_bound_mb, f"RSS {added} MB above the test's start: {rss}"


@pytest.mark.parametrize("array", [False, True], ids=["lines", "array"])
def test_50_mb_record_fails_with_bounded_memory(array: bool) -> None:
    data = _one_big_object(50, array)
    _fails_over_max_string_length(data, rss_bound_mb=len(data) * 4 // (1 << 20) + 100)


@pytest.mark.slow
@pytest.mark.parametrize("array", [False, True], ids=["lines", "array"])
def test_500_mb_record_fails_with_bounded_memory(array: bool) -> None:
    data = _one_big_object(500, array)
    _fails_over_max_string_length(data, rss_bound_mb=len(data) * 3 // (1 << 20) + 100)


def test_max_string_length_is_configurable() -> None:
    r = make("ConvertRecord", {}, ("JsonTreeReader", {"max_string_length": "1 KB"}))
    r.enqueue(b'{"id": 1}\n{"id": 2, "s": "' + b"y" * 2000 + b'"}\n', {"n": "big"})
    r.enqueue(b'{"id": 3}\n', {"n": "small"})
    r.run()
    (bad,) = r.flowfiles_for("failure")
    assert bad["n"] == "big"
    assert bad["record.error.message"].startswith(
        "line 2: the record is longer than Max String Length (1 KB)"
    )
    assert [f["n"] for f in r.flowfiles_for("success")] == ["small"]

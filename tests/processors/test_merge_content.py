"""MergeContent: NiFi's bin-packing and defragment semantics, every merge format,
delimiters, attribute strategies, thresholds, bin age, bin eviction, draining."""

from __future__ import annotations

import io
import struct
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest

import flowengine
from flowengine._status import DrainFlush
from flowengine.testing import TestRunner


def runner(**props: Any) -> TestRunner:
    r = TestRunner("MergeContent")
    for k, v in props.items():
        r.set_property(k, v)
    return r


def read_v3(data: bytes) -> list[tuple[dict[str, str], bytes]]:
    """An independent FlowFile Stream v3 reader, written from NiFi's format description
    (magic, 2-or-6-byte length fields, 8-byte content length)."""
    out, pos = [], 0

    def length() -> int:
        nonlocal pos
        (n,) = struct.unpack_from(">H", data, pos)
        pos += 2
        if n == 0xFFFF:
            (n,) = struct.unpack_from(">I", data, pos)
            pos += 4
        return n

    def string() -> str:
        nonlocal pos
        n = length()
        s = data[pos : pos + n].decode()
        pos += n
        return s

    while pos < len(data):
        assert data[pos : pos + 7] == b"NiFiFF3"
        pos += 7
        attrs = {}
        for _ in range(length()):
            k = string()
            attrs[k] = string()
        (size,) = struct.unpack_from(">q", data, pos)
        pos += 8
        out.append((attrs, data[pos : pos + size]))
        pos += size
    return out


def test_binary_concatenation_with_text_delimiters_and_max_entries() -> None:
    """Full bins merge at once (MAX_ENTRIES_THRESHOLD_REACHED); header, demarcator and
    footer wrap the contents; the rest merges once nothing waits (MIN_THRESHOLDS)."""
    r = runner(
        maximum_number_of_entries="3",
        delimiter_strategy="Text",
        header="[",
        footer="]",
        demarcator=",",
    )
    for i in range(5):
        r.enqueue(f"v{i}", {"common": "yes", "own": str(i), "mime.type": "text/plain"})
    r.run(1, stop_on_finish=False)
    merged = r.flowfiles_for("merged")
    assert [m.content for m in merged] == [b"[v0,v1,v2]"]
    m = merged[0]
    assert m["merge.count"] == "3"
    assert m["merge.reason"] == "MAX_ENTRIES_THRESHOLD_REACHED"
    assert m["mime.type"] == "text/plain"
    assert m["common"] == "yes" and "own" not in m.attributes
    assert m["filename"].isdigit()  # several inputs, no segment.original.filename
    assert int(m["merge.bin.age"]) >= 0
    r.run(1)
    merged = r.flowfiles_for("merged")
    assert merged[1].content == b"[v3,v4]"
    assert merged[1]["merge.reason"] == "MIN_THRESHOLDS_REACHED"
    originals = r.flowfiles_for("original")
    assert len(originals) == 5
    assert {o["merge.uuid"] for o in originals[:3]} == {merged[0]["uuid"]}
    r.assert_queue_empty()


def test_display_names_and_filename_delimiters(tmp_path: Path) -> None:
    """Delimiter Strategy Filename reads the files; display names are accepted; a
    missing file is rejected at validation."""
    (tmp_path / "h").write_bytes(b"HEAD\n")
    (tmp_path / "d").write_bytes(b"\n--\n")
    r = TestRunner("MergeContent")
    r.set_property("Delimiter Strategy", "Filename")
    r.set_property("Header", str(tmp_path / "h"))
    r.set_property("Demarcator", str(tmp_path / "d"))
    r.set_property("Minimum Number of Entries", "2")
    r.enqueue(b"a", {"mime.type": "text/plain"})
    r.enqueue(b"b", {"mime.type": "text/csv"})
    r.run(2)  # bins, then merges in a trigger that finds no new input
    (m,) = r.flowfiles_for("merged")
    assert m.content == b"HEAD\na\n--\nb"
    assert m["mime.type"] == "application/octet-stream"  # inputs disagree

    bad = TestRunner("MergeContent")
    bad.set_property("delimiter_strategy", "Filename")
    bad.set_property("footer", str(tmp_path / "missing"))
    bad.enqueue(b"a")
    with pytest.raises(Exception, match="does not exist"):
        bad.run(1)


def test_one_input_keeps_its_filename_and_segment_original_filename_names_many() -> (
    None
):
    r = runner()
    r.enqueue(b"x", {"filename": "only.txt"})
    r.run(2)  # bins, then merges in a trigger that finds no new input
    assert r.flowfiles_for("merged")[0]["filename"] == "only.txt"
    r = runner(merge_format="TAR", minimum_number_of_entries="2")
    for i in range(2):
        r.enqueue(b"x", {"filename": f"p{i}", "segment.original.filename": "whole"})
    r.run(2)  # bins, then merges in a trigger that finds no new input
    assert r.flowfiles_for("merged")[0]["filename"] == "whole.tar"


def test_correlation_and_attribute_strategies() -> None:
    """Correlation Attribute Name separates bins; Keep All Unique keeps attributes that
    do not conflict (also those some inputs lack); Keep Only Common only shared ones."""
    r = runner(
        correlation_attribute_name="tenant",
        attribute_strategy="Keep All Unique Attributes",
    )
    r.enqueue(b"a1", {"tenant": "a", "x": "1", "only_first": "f"})
    r.enqueue(b"b1", {"tenant": "b", "x": "1"})
    r.enqueue(b"a2", {"tenant": "a", "x": "2"})
    r.run(2)  # bins, then merges in a trigger that finds no new input
    merged = {m["tenant"]: m for m in r.flowfiles_for("merged")}
    assert merged["a"].content == b"a1a2" and merged["b"].content == b"b1"
    assert merged["a"]["only_first"] == "f" and "x" not in merged["a"].attributes
    assert merged["b"]["x"] == "1"

    r = runner()
    r.enqueue(b"1", {"only_first": "f", "same": "s"})
    r.enqueue(b"2", {"same": "s"})
    r.run(2)  # bins, then merges in a trigger that finds no new input
    (m,) = r.flowfiles_for("merged")
    assert m["same"] == "s" and "only_first" not in m.attributes


def test_correlation_attribute_name_supports_expression_language() -> None:
    r = runner(correlation_attribute_name="${which}")
    r.enqueue(b"1", {"which": "k", "k": "one"})
    r.enqueue(b"2", {"which": "k", "k": "two"})
    r.run(2)  # bins, then merges in a trigger that finds no new input
    assert sorted(m.content for m in r.flowfiles_for("merged")) == [b"1", b"2"]


def test_group_sizes() -> None:
    """A FlowFile that would overflow Maximum Group Size starts a new bin; one larger
    than it is merged alone; Minimum Group Size holds a bin back."""
    r = runner(maximum_group_size="10 B", minimum_group_size="4 B")
    r.enqueue(b"123456")
    r.enqueue(b"789012")  # would make 12 B: the first bin merges
    r.enqueue(b"x" * 20)  # larger than the maximum: alone
    r.enqueue(b"ab")  # 2 B: below the minimum group size
    r.run(1, stop_on_finish=False)
    merged = r.flowfiles_for("merged")
    assert [(m.content, m["merge.reason"]) for m in merged] == [
        (b"123456", "MAX_BYTES_THRESHOLD_REACHED"),
        (b"x" * 20, "MAX_BYTES_THRESHOLD_REACHED"),
    ]
    r.run(1)  # nothing new: 789012ab (8 B >= 4 B) meets the minimum
    assert r.flowfiles_for("merged")[2].content == b"789012ab"


def test_minimum_group_size_waits_then_merges() -> None:
    r = runner(minimum_group_size="5 B", minimum_number_of_entries="1")
    r.enqueue(b"ab")
    r.run(1, stop_on_finish=False)
    assert r.transfer_count("merged") == 0
    r.enqueue(b"cde")
    r.run(1, stop_on_finish=False)  # binned new input: waits for an idle trigger
    r.run(2)  # bins, then merges in a trigger that finds no new input
    (m,) = r.flowfiles_for("merged")
    assert m.content == b"abcde" and m["merge.reason"] == "MIN_THRESHOLDS_REACHED"


def test_max_bin_age_merges_an_underfilled_bin_and_idle_triggers_yield() -> None:
    """Below the minimums a bin waits (the idle trigger yields, no spinning, at most
    until the age deadline); after Max Bin Age it merges with reason TIMEOUT."""
    r = runner(minimum_number_of_entries="100", max_bin_age="10 sec")
    r.enqueue(b"a")
    r.enqueue(b"b")
    r.run(1, stop_on_finish=False)
    r.run(1, stop_on_finish=False)
    assert r.transfer_count("merged") == 0
    assert r.is_yielded  # nothing arrived: it does not re-trigger at once
    r.clock.advance(11)
    r.run(2)  # bins, then merges in a trigger that finds no new input
    (m,) = r.flowfiles_for("merged")
    assert m.content == b"ab" and m["merge.reason"] == "TIMEOUT"
    assert int(m["merge.bin.age"]) >= 10_000


def test_maximum_number_of_bins_merges_the_oldest() -> None:
    r = runner(
        correlation_attribute_name="k",
        minimum_number_of_entries="10",
        maximum_number_of_bins="2",
    )
    for k in ("a", "b", "c"):
        r.enqueue(k.encode(), {"k": k})
    r.run(1, stop_on_finish=False)
    (m,) = r.flowfiles_for("merged")
    assert m.content == b"a" and m["merge.reason"] == "BIN_MANAGER_FULL"
    r.run(1)


def test_stopping_returns_held_flowfiles_to_the_queue() -> None:
    r = runner(minimum_number_of_entries="10")
    r.enqueue(b"a")
    r.enqueue(b"b")
    r.run(1)  # stops: bins are rolled back
    assert r.transfer_count("merged") == 0
    assert r.queue_size() == 2


def test_tar_with_keep_path_permissions_and_modified_time() -> None:
    r = runner(merge_format="TAR", keep_path="true", minimum_number_of_entries="2")
    r.enqueue(
        b"one",
        {
            "filename": "a.txt",
            "path": "./dir/sub",
            "tar.permissions": "640",
            "file.lastModifiedTime": "2024-05-01T10:00:00+0000",
        },
    )
    r.enqueue(b"two" * 1000, {"filename": "b.txt", "path": "./"})
    r.run(2)  # bins, then merges in a trigger that finds no new input
    (m,) = r.flowfiles_for("merged")
    assert m["mime.type"] == "application/tar"
    assert m["filename"].endswith(".tar")
    with tarfile.open(fileobj=io.BytesIO(m.content)) as tar:
        members = tar.getmembers()
        assert [x.name for x in members] == ["dir/sub/a.txt", "b.txt"]
        assert members[0].mode == 0o640 and members[1].mode == 0o644
        assert members[0].mtime == 1714557600
        assert tar.extractfile(members[1]).read() == b"two" * 1000  # type: ignore[union-attr]


@pytest.mark.parametrize("level", ["0", "9"])
def test_zip_with_compression_level(level: str) -> None:
    r = runner(
        merge_format="ZIP", compression_level=level, minimum_number_of_entries="2"
    )
    r.enqueue(b"a" * 5000, {"filename": "a.txt", "path": "x/"})
    r.enqueue(b"b", {"filename": "b.txt"})
    r.run(2)  # bins, then merges in a trigger that finds no new input
    (m,) = r.flowfiles_for("merged")
    assert m["mime.type"] == "application/zip" and m["filename"].endswith(".zip")
    with zipfile.ZipFile(io.BytesIO(m.content)) as zf:
        assert zf.namelist() == ["a.txt", "b.txt"]  # Keep Path false
        assert zf.read("a.txt") == b"a" * 5000
        small = zf.getinfo("a.txt").compress_size < 100
        assert small == (level == "9")


def test_flowfile_stream_v3_carries_attributes_and_content() -> None:
    r = runner(merge_format="FlowFile Stream, v3", minimum_number_of_entries="2")
    r.enqueue(b"Hello World!", {"A": "a", "B": "b"})
    r.enqueue(b"x" * 70_000, {"long": "v" * 70_000})  # 4-byte length fields
    r.run(2)  # bins, then merges in a trigger that finds no new input
    (m,) = r.flowfiles_for("merged")
    assert m["mime.type"] == "application/flowfile-v3"
    assert m["filename"].endswith(".pkg")
    (a, c1), (b, c2) = read_v3(m.content)
    originals = r.flowfiles_for("original")
    assert c1 == b"Hello World!" and a["A"] == "a" and a["B"] == "b"
    assert a["uuid"] == originals[0]["uuid"]
    assert c2 == b"x" * 70_000 and b["long"] == "v" * 70_000


def test_flowfile_stream_v2_matches_nifis_documented_bytes() -> None:
    """NiFi's FlowFilePackagerV2 javadoc: attributes A=a, B=b and content "Hello World!"
    encode as 00 02 00 01 41 ... 64 21 (here for a FlowFile with exactly those
    attributes plus the three core ones, checked field by field)."""
    r = runner(merge_format="FlowFile Stream, v2")
    r.enqueue(b"Hello World!", {"A": "a", "B": "b"})
    r.run(2)  # bins, then merges in a trigger that finds no new input
    (m,) = r.flowfiles_for("merged")
    assert m["mime.type"] == "application/flowfile-v2"
    data = m.content
    (o,) = r.flowfiles_for("original")
    attrs = dict(o.attributes)
    attrs.pop("merge.uuid")
    expected = struct.pack(">H", len(attrs))
    for k, v in attrs.items():
        expected += struct.pack(">H", len(k)) + k.encode()
        expected += struct.pack(">H", len(v)) + v.encode()
    expected += bytes.fromhex("00 00 00 00 00 00 00 0C") + b"Hello World!"
    assert sorted(data) == sorted(expected) and len(data) == len(expected)
    assert data.endswith(
        bytes.fromhex("00 00 00 00 00 00 00 0C 48 65 6C 6C 6F 20 57 6F 72 6C 64 21")
    )


def test_defragment_rebuilds_fragments_in_index_order() -> None:
    r = runner(merge_strategy="Defragment")
    for idx in (3, 1, 2):
        r.enqueue(
            f"part{idx};",
            {
                "fragment.identifier": "f1",
                "fragment.index": str(idx),
                "fragment.count": "3",
                "segment.original.filename": "whole.txt",
            },
        )
    r.enqueue(
        b"other",
        {"fragment.identifier": "f2", "fragment.index": "1", "fragment.count": "2"},
    )
    r.run(1, stop_on_finish=False)
    (m,) = r.flowfiles_for("merged")
    assert m.content == b"part1;part2;part3;"
    assert m["filename"] == "whole.txt"
    assert m["merge.reason"] == "MAX_ENTRIES_THRESHOLD_REACHED"
    assert r.transfer_counts() == {"merged": 1, "original": 3}  # f2 waits
    r.run(1)
    assert r.queue_size() == 1  # stopped: f2 is back in the queue


def test_defragment_missing_fragment_goes_to_failure_after_max_bin_age() -> None:
    """NiFi: a bin still missing fragments when Max Bin Age elapses is routed to
    failure (with an error.message saying which fragments are missing)."""
    r = runner(merge_strategy="Defragment", max_bin_age="5 sec")
    for idx in (1, 3):
        r.enqueue(
            b"x",
            {
                "fragment.identifier": "f",
                "fragment.index": str(idx),
                "fragment.count": "3",
            },
        )
    r.run(1, stop_on_finish=False)
    assert r.transfer_counts() == {}
    r.clock.advance(6)
    r.run(1)
    failed = r.flowfiles_for("failure")
    assert len(failed) == 2 and r.transfer_count("merged") == 0
    assert (
        "expected number of fragments is 3 but found only 2"
        in failed[0]["error.message"]
    )


def test_defragment_fragment_count_mismatch_and_bad_attributes_fail() -> None:
    r = runner(merge_strategy="Defragment", max_bin_age="1 sec")
    r.enqueue(
        b"1", {"fragment.identifier": "f", "fragment.index": "1", "fragment.count": "3"}
    )
    r.enqueue(
        b"2", {"fragment.identifier": "f", "fragment.index": "2", "fragment.count": "2"}
    )
    r.enqueue(
        b"3",
        {"fragment.identifier": "g", "fragment.index": "one", "fragment.count": "1"},
    )
    r.enqueue(b"4", {"fragment.index": "1", "fragment.count": "1"})
    r.run(1)
    failed = {f.content: f["error.message"] for f in r.flowfiles_for("failure")}
    assert "integer value for the fragment.index" in failed[b"3"]
    assert "no fragment.identifier" in failed[b"4"]
    # the latest fragment.count (2) completes the bin, whose counts differ: failure
    assert "differing values for the fragment.count" in failed[b"1"]
    assert set(failed) == {b"1", b"2", b"3", b"4"}


def test_unreadable_content_sends_the_bin_to_failure() -> None:
    r = runner(minimum_number_of_entries="2")
    r.enqueue(b"fine")
    r.enqueue(b"gone", content_lost=True)
    r.run(2)
    failed = r.flowfiles_for("failure")
    assert len(failed) == 2 and all("error.message" in f.attributes for f in failed)
    assert r.transfer_count("merged") == 0


def test_min_entries_above_max_is_invalid() -> None:
    r = runner(minimum_number_of_entries="10", maximum_number_of_entries="5")
    r.enqueue(b"a")
    with pytest.raises(Exception, match="exceeds"):
        r.run(1)


def _drain_flow(**props: str) -> flowengine.Flow:
    f = flowengine.Flow("merge-content-drain")
    f.add_input_port("in")
    f.add_output_port("out")
    f.add_processor(
        "merge", "MergeContent", props, auto_terminate=["original", "failure"]
    )
    f.connect("in", "merge")
    f.connect("merge", "out", ["merged"])
    return f


def test_draining_flushes_bins_and_reports_those_below_minimums() -> None:
    f = _drain_flow(minimum_number_of_entries="1000", maximum_number_of_entries="1000")
    with f.run(
        until_drained=True, timeout=30, inputs={"in": [b"a", b"b", b"c"]}
    ) as res:
        assert res.drained and not res.timed_out
        (out,) = res.outputs["out"]
        assert sorted(res.read(out)) == sorted(b"abc")
        assert out.attributes["merge.reason"] == "DRAINED"
        assert res.drain_flushes == {
            "merge": (DrainFlush(1, 3, "FlowFiles", "Minimum Number of Entries 1000"),)
        }


def test_draining_a_bin_that_meets_its_minimums_is_not_reported() -> None:
    f = _drain_flow(minimum_number_of_entries="2", max_bin_age="1 hour")
    with f.run(until_drained=True, timeout=30, inputs={"in": [b"a", b"b"]}) as res:
        assert res.drained
        (out,) = res.outputs["out"]
        assert out.attributes["merge.reason"] == "MIN_THRESHOLDS_REACHED"
        assert res.drain_flushes == {}


def test_a_waiting_bin_does_not_spin_and_still_meets_its_deadline() -> None:
    """A real run holding a bin below its minimums: a handful of triggers in 2.5 s
    (yielding until the Max Bin Age deadline), not one every 10 ms as MergeRecord; the
    bin still merges on time (TIMEOUT at ~1 s)."""
    f = _drain_flow(minimum_number_of_entries="100", max_bin_age="1 sec")
    with f.run(until_drained=False, timeout=2.5, inputs={"in": [b"a", b"b"]}) as res:
        (out,) = res.outputs["out"]
        assert out.attributes["merge.reason"] == "TIMEOUT"
        assert 1000 <= int(out.attributes["merge.bin.age"]) < 1500
        (merge,) = [p for p in res.status.processors if p.name == "merge"]
        assert merge.triggers < 20, merge.triggers


@pytest.mark.parametrize("merges", [1, 2, 3])
def test_bins_behind_one_router_flush_when_the_flow_drains(merges: int) -> None:
    """RouteOnAttribute into 1, 2 or 3 MergeContents, bins below their minimums and no
    Max Bin Age: every bin is flushed when the flow drains and reported (issue 23.7,
    the MergeRecord case with MergeContent: merges must not wait for each other)."""
    f = flowengine.Flow("merge-content-router")
    f.add_input_port("in")
    f.add_output_port("out")
    routes = {f"r{k}": f"${{k:equals('{k}')}}" for k in range(merges)}
    f.add_processor("route", "RouteOnAttribute", routes, auto_terminate=["unmatched"])
    f.connect("in", "route")
    for k in range(merges):
        f.add_processor(
            f"merge_{k}",
            "MergeContent",
            {
                "minimum_number_of_entries": "500",
                "maximum_number_of_entries": "500",
            },
            auto_terminate=["original", "failure"],
        )
        f.connect("route", f"merge_{k}", [f"r{k}"])
        f.connect(f"merge_{k}", "out", ["merged"])
    inputs = [(b"%d;" % i, {"k": str(i % merges)}) for i in range(3 * merges)]
    with f.run(until_drained=True, timeout=20, inputs={"in": inputs}) as result:
        assert result.drained and not result.timed_out
        # one yield (1 sec) at most: merges triggering in step used to see each other
        # running and yield again, 1 s at a time, sometimes past the timeout
        assert result.seconds < 5, result.seconds
        out = result.outputs["out"]
        assert len(out) == merges
        pieces = sorted(
            int(p) for o in out for p in result.read(o).decode().split(";") if p
        )
        assert pieces == list(range(3 * merges))
        assert {o.attributes["merge.reason"] for o in out} == {"DRAINED"}
        assert result.drain_flushes == {
            f"merge_{k}": (
                DrainFlush(1, 3, "FlowFiles", "Minimum Number of Entries 500"),
            )
            for k in range(merges)
        }

"""Poison isolation (issue 25; docs/architecture.md, "isolation rule").

One FlowFile that makes a trigger raise must not hold its batch hostage: the engine
retries the batch's FlowFiles in smaller groups down to one, the good ones commit and
only the bad one is isolated (to ``failure`` with ``error.message`` where the processor
has that relationship, else kept queued, penalized, with a bulletin).

The generic test runs against every built-in processor that takes input (parametrized
over the registry, so a new built-in fails here until it has a poison case).
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import flowengine
from flowengine import (
    InputRequirement,
    ProcessContext,
    Processor,
    ProcessSession,
    Relationship,
)
from flowengine._flow._registry import default_registry
from flowengine.testing import TestRunner, VirtualClock


def run(flow: flowengine.Flow, **kw: Any) -> flowengine.RunResult:
    kw.setdefault("timeout", 30)
    return flow.run(**kw)


JSON = b'[{"id": 1, "name": "a"}]'

_RECORD_SERVICES = {"in": ("JsonTreeReader", {}), "out": ("JsonRecordSetWriter", {})}
_RECORD_PROPS = {"record_reader": "in", "record_writer": "out"}


def _record_case(**props: str) -> dict[str, Any]:
    return {
        "services": _RECORD_SERVICES,
        "props": {**_RECORD_PROPS, **props},
        "good": JSON,
        "bad": "missing-content",
    }


#: per processor: services, properties, good content, and how the bad FlowFile
#: fails: ``missing-content`` (its content claim is gone: every reader raises) or
#: attributes that make an expression property raise (toNumber() on 'abc').
def _smtp_port() -> int:
    """A real SMTP server (aiosmtpd, 127.0.0.1) accepting everything, for PutEmail;
    stopped when the test process exits."""
    import atexit
    import socket

    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Sink

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    ctl = Controller(Sink(), hostname="127.0.0.1", port=port, ready_timeout=10)
    ctl.start()
    atexit.register(ctl.stop)
    return port


CASES: dict[str, Callable[[Path], dict[str, Any]]] = {
    "UpdateAttribute": lambda _: {
        "props": {"n": "${x:toNumber():plus(1)}"},
        "good_attrs": {"x": "1"},
        "bad": {"x": "abc"},
    },
    "RouteOnAttribute": lambda _: {
        "props": {"big": "${x:toNumber():gt(0)}"},
        "good_attrs": {"x": "1"},
        "bad": {"x": "abc"},
    },
    "LogMessage": lambda _: {
        "props": {"log_message": "n=${x:toNumber()}"},
        "good_attrs": {"x": "1"},
        "bad": {"x": "abc"},
    },
    "LogAttribute": lambda _: {
        "props": {"log_payload": "true"},
        "bad": "missing-content",
    },
    "PutFile": lambda tmp: {
        "props": {"directory": str(tmp / "out")},
        "bad": "missing-content",
    },
    "PutFileSystem": lambda tmp: {
        "props": {"directory_url": (tmp / "out").as_uri()},
        "bad": "missing-content",
    },
    "FetchFile": lambda tmp: {
        "props": {"file_to_fetch": "${p:toNumber()}${absolute.path}/${filename}"},
        "good_attrs": {"absolute.path": str(tmp), "filename": "in.txt", "p": ""},
        "files": {"in.txt": b"data"},
        "bad": {"p": "abc"},
    },
    "FetchFileSystem": lambda tmp: {
        "props": {"url": "${p:toNumber()}file://${absolute.path}/${filename}"},
        "good_attrs": {"absolute.path": str(tmp), "filename": "in.txt", "p": ""},
        "files": {"in.txt": b"data"},
        "bad": {"p": "abc"},
    },
    "ConvertRecord": lambda _: _record_case(),
    "ValidateRecord": lambda _: {
        **_record_case(),
        "props": {
            **_RECORD_PROPS,
            "schema_access_strategy": "schema-text-property",
            "schema_text": "id: int64, name: string",
        },
    },
    "QueryRecord": lambda _: _record_case(q="SELECT * FROM FLOWFILE"),
    "SplitRecord": lambda _: _record_case(records_per_split="1"),
    "PartitionRecord": lambda _: _record_case(n="/name"),
    "UpdateRecord": lambda _: _record_case(**{"/name": "x"}),
    "MergeRecord": lambda _: _record_case(
        minimum_number_of_records="1", maximum_number_of_records="1"
    ),
    "MergeContent": lambda _: {
        "props": {"maximum_number_of_entries": "1"},
        "bad": "missing-content",
    },
    "UnpackContent": lambda _: {
        "props": {"packaging_format": "flowfile-stream-v3"},
        "good": b"NiFiFF3\x00\x00" + (4).to_bytes(8, "big") + b"good",
        "bad": "missing-content",
    },
    "PackageFlowFile": lambda _: {
        "props": {"maximum_batch_size": "10"},
        "bad": "missing-content",
    },
    "LookupRecord": lambda _: {
        **_record_case(key="/name"),
        "services": {**_RECORD_SERVICES, "lk": ("SimpleKeyValueLookupService", {})},
        "props": {**_RECORD_PROPS, "lookup_service": "lk", "key": "/name"},
    },
    "CompressContent": lambda _: {
        "props": {"mode": "decompress", "compression_format": "gzip"},
        "good": gzip.compress(b"good", mtime=0),
        "bad": "missing-content",
    },
    "CryptographicHashContent": lambda _: {"props": {}, "bad": "missing-content"},
    # reads neither content nor Expression Language: nothing a FlowFile carries can
    # make it raise
    "CryptographicHashAttribute": lambda _: {"unpoisonable": True},
    "EncodeContent": lambda _: {"props": {}, "bad": "missing-content"},
    "IdentifyMimeType": lambda _: {"props": {}, "bad": "missing-content"},
    "ModifyBytes": lambda _: {
        "props": {"start_offset": "1 B"},
        "bad": "missing-content",
    },
    "SplitText": lambda _: {
        "props": {"line_split_count": "1"},
        "bad": "missing-content",
    },
    "SplitContent": lambda _: {
        "props": {"byte_sequence_format": "Text", "byte_sequence": "o"},
        "bad": "missing-content",
    },
    "SegmentContent": lambda _: {
        "props": {"segment_size": "2 B"},
        "bad": "missing-content",
    },
    "ReplaceText": lambda _: {"props": {}, "bad": "missing-content"},
    "ReplaceTextWithMapping": lambda tmp: {
        "props": {"mapping_file": str(tmp / "map.txt")},
        "files": {"map.txt": b"good\tfine\n"},
        "bad": "missing-content",
    },
    "ExtractText": lambda _: {"props": {"g": "(o+)"}, "bad": "missing-content"},
    "RouteOnContent": lambda _: {"props": {"g": "good"}, "bad": "missing-content"},
    "RouteText": lambda _: {
        "props": {"matching_strategy": "Contains", "g": "o"},
        "bad": "missing-content",
    },
    "AttributesToJSON": lambda _: {
        "props": {"attributes_list": "j", "json_handling_strategy": "Nested"},
        "good_attrs": {"j": "{}"},
        "bad": {"j": "{oops"},
    },
    # only renders attributes it has: no input makes it raise or fail
    "AttributesToCSV": lambda _: {"props": {}, "bad": {}, "unpoisonable": True},
    "DuplicateFlowFile": lambda _: {
        "props": {"number_of_copies": "${x:toNumber()}"},
        "good_attrs": {"x": "1"},
        "bad": {"x": "abc"},
    },
    "RetryFlowFile": lambda _: {
        "props": {"maximum_retries": "${x:toNumber()}"},
        "good_attrs": {"x": "3"},
        "bad": {"x": "abc"},
    },
    # routes by position only: no input makes it raise
    "DistributeLoad": lambda _: {"props": {}, "bad": {}, "unpoisonable": True},
    "ControlRate": lambda _: {
        "props": {
            "rate_control_criteria": "attribute value",
            "rate_controlled_attribute": "cost",
            "maximum_rate": "100",
        },
        "good_attrs": {"cost": "1"},
        "bad": {"cost": "abc"},
    },
    "EvaluateJsonPath": lambda _: {
        "props": {"Destination": "flowfile-attribute", "a": "$.a"},
        "good": b'{"a": 1}',
        "bad": "missing-content",
    },
    "SplitJson": lambda _: {
        "props": {"JsonPath Expression": "$.a"},
        "good": b'{"a": [1]}',
        "bad": "missing-content",
    },
    "ValidateJson": lambda _: {
        "props": {"JSON Schema": '{"type": "object"}'},
        "good": b'{"a": 1}',
        "bad": "missing-content",
    },
    "FlattenJson": lambda _: {
        "props": {},
        "good": b'{"a": {"b": 1}}',
        "bad": "missing-content",
    },
    "DetectDuplicate": lambda _: {
        "services": {"c": ("EmbeddedDistributedMapCacheService", {})},
        "props": {
            "distributed_cache_service": "c",
            "cache_entry_identifier": "${x:toNumber():plus(1)}",
        },
        "good_attrs": {"x": "1"},
        "bad": {"x": "abc"},
    },
    "Notify": lambda _: {
        "services": {"c": ("EmbeddedDistributedMapCacheService", {})},
        "props": {
            "distributed_cache_service": "c",
            "release_signal_identifier": "${x:toNumber():plus(1)}",
            "signal_buffer_count": "10",
        },
        "good_attrs": {"x": "1"},
        "bad": {"x": "abc"},
    },
    "Wait": lambda _: {
        "services": {"c": ("EmbeddedDistributedMapCacheService", {})},
        "props": {
            "distributed_cache_service": "c",
            "release_signal_identifier": "${x:toNumber():plus(1)}",
            "wait_buffer_count": "10",
        },
        "good_attrs": {"x": "1"},
        "bad": {"x": "abc"},
    },
    "EnforceOrder": lambda _: {
        "props": {
            "group_identifier": "${x:toNumber():plus(1)}",
            "order_attribute": "x",
            "initial_order": "1",
        },
        "good_attrs": {"x": "1"},
        "bad": {"x": "abc"},
    },
    "LookupAttribute": lambda _: {
        "services": {"kv": ("SimpleKeyValueLookupService", {"2": "two"})},
        "props": {"lookup_service": "kv", "y": "${x:toNumber():plus(1)}"},
        "good_attrs": {"x": "1"},
        "bad": {"x": "abc"},
    },
    "ExecuteScript": lambda _: {
        "props": {
            "script_body": "for ff in session.get(10):\n"
            "    session.read(ff)\n    session.transfer(ff, REL_SUCCESS)\n"
        },
        "bad": "missing-content",
    },
    "PutEmail": lambda _: {
        "props": {
            "smtp_hostname": "127.0.0.1",
            "smtp_port": str(_smtp_port()),
            "from": "a@example.com",
            "to": "b@example.com",
            "attach_file": "true",
        },
        "bad": "missing-content",
    },
    "ExecuteStreamCommand": lambda _: {
        "props": {"command_path": "cat"},
        "bad": "missing-content",
    },
    "ExtractGrok": lambda _: {
        "props": {"grok_expression": "%{WORD:w}"},
        "bad": "missing-content",
    },
    "JoltTransformJSON": lambda _: {
        "props": {"jolt_transform": "jolt-transform-shift", "jolt_spec": '{"*": "&"}'},
        "good": JSON,
        "bad": "missing-content",
    },
    "JoltTransformRecord": lambda _: _record_case(
        jolt_transform="jolt-transform-shift", jolt_spec='{"*": "&"}'
    ),
}
#: S3 processors need a moto server: tests/s3/test_poison.py covers each of them
S3_MODULE = "flowengine.processors.aws"


def _input_processors() -> list[str]:
    reg = default_registry()
    out = []
    for name in sorted(reg.names("processor")):
        cls = reg.resolve("processor", name)
        if (
            cls.__module__.startswith("flowengine.processors")
            and not cls.__module__.startswith(S3_MODULE)
            and cls.input_requirement is not InputRequirement.FORBIDDEN
        ):
            out.append(name)
    return out


@pytest.mark.parametrize("type_name", _input_processors())
def test_poison_flowfile_is_isolated_and_the_good_one_delivered(
    type_name: str, tmp_path: Path
) -> None:
    """A FlowFile that makes the processor raise (missing content, or an expression
    property that fails on its attributes) next to a good one: the good one leaves on
    a non-failure relationship, the bad one goes to ``failure`` with ``error.message``
    or stays queued, penalized, with a bulletin naming it."""
    cls = default_registry().resolve("processor", type_name)
    assert type_name in CASES, f"add a poison case for the built-in {type_name}"
    case = CASES[type_name](tmp_path)
    if case.get("unpoisonable"):
        pytest.skip(f"{type_name} has no input that can make it raise")
    for fname, data in case.get("files", {}).items():
        (tmp_path / fname).write_bytes(data)
    r = TestRunner(type_name)
    for sid, (stype, sprops) in case.get("services", {}).items():
        r.add_service(sid, stype, sprops)
    for k, v in {**case["props"], **case.get("bad_props", {})}.items():
        r.set_property(k, v)
    bad = case["bad"]
    good_content = case.get("good", b"good")
    r.enqueue(good_content, {**case.get("good_attrs", {}), "which": "good"})
    if bad == "missing-content":
        r.enqueue(
            good_content,
            {**case.get("good_attrs", {}), "which": "bad"},
            content_lost=True,
        )
    else:
        r.enqueue(good_content, {**case.get("good_attrs", {}), **bad, "which": "bad"})
    r.run()
    failure = r.flowfiles_for("failure")
    delivered = {
        rel: r.flowfiles_for(rel) for rel in r.transfer_counts() if rel != "failure"
    }
    whiches = {f.get("which") for ffs in delivered.values() for f in ffs}
    assert "good" in whiches, (delivered, r.bulletins)
    for rel in ("not.found", "permission.denied", "unmatched", "invalid"):
        assert not r.flowfiles_for(rel) or rel == "unmatched", rel
    assert "bad" not in whiches
    if "failure" in {rel.name for rel in cls.relationships}:
        assert [f.get("which") for f in failure] == ["bad"]
        # the engine (or the processor) names the reason on the FlowFile
        assert any("error" in k or "failure" in k for k in failure[0].attributes)
    else:
        assert r.queue_size() == 1 and r.penalized_count() == 1
        bad_uuid = r.bulletins[-1].flowfile_uuid
        assert bad_uuid is not None


# -- the mechanism, on a flow -------------------------------------------------------
class FailOnMarked(Processor):
    """Takes a batch, copies each FlowFile; raises when one is marked bad."""

    SUCCESS = Relationship("success")

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        ffs = session.get(context.batch_size)
        for ff in ffs:
            if ff.get("bad") == "1":
                raise ValueError(f"cannot handle {ff.get('n')}")
            session.transfer(ff, self.SUCCESS)


def test_bisection_commits_every_good_flowfile_of_a_large_batch(types: Any) -> None:
    """Two bad FlowFiles in a batch of 50: 48 reach the sink, the two stay penalized,
    and after ``poison_attempts`` they are reported in the status by uuid and reason."""
    f = flowengine.Flow("poison")
    f.add_processor(
        "src",
        types.Source,
        {"count": 50},
        schedule={"max_triggers": 1},
    )
    f.add_processor(
        "mark",
        "UpdateAttribute",
        {"bad": "${n:equals('7'):or(${n:equals('31')}):ifElse('1','0')}"},
    )
    f.add_processor(
        "x",
        FailOnMarked,
        schedule={"penalty_duration": "1 sec", "poison_attempts": 2},
    )
    f.add_processor("s", types.Sink)
    f.connect("src", "mark")
    f.connect("mark", "x")
    f.connect("x", "s")
    res = run(f, clock=VirtualClock(), timeout=5.0)
    assert res.counts["s"].flowfiles_in == 48
    poison = res.counts["x"].poison
    assert len(poison) == 2
    assert sorted(poison.values()) == [
        "ValueError: cannot handle 31",
        "ValueError: cannot handle 7",
    ]


class FailOnMarkedWithFailure(FailOnMarked):
    """The same, with a ``failure`` relationship for the engine to isolate into."""

    FAILURE = Relationship("failure")


def test_an_isolated_flowfile_routed_to_failure_is_penalized() -> None:
    """The engine routes a FlowFile that fails alone to ``failure`` penalized, as
    NiFi processors do (``session.penalize`` then ``transfer(REL_FAILURE)``), so a
    failure loop back into the processor does not spin on it; the good one is not."""
    r = TestRunner(FailOnMarkedWithFailure)
    r.set_schedule(penalty_duration="30 sec")
    r.enqueue(b"a", {"n": "1"})
    r.enqueue(b"b", {"n": "2", "bad": "1"})
    r.run()
    (bad,) = r.flowfiles_for("failure")
    assert bad["error.message"] == "cannot handle 2"
    assert bad.is_penalized
    (good,) = r.flowfiles_for("success")
    assert not good.is_penalized

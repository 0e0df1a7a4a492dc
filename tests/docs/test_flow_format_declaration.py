"""The flow format is declared once (``flowengine/_flow_format.py``) and everything agrees.

The loader, validation, ``Schedule``/``RetryPolicy``, the JSON Schema and the reference
tables of docs/flow-format.md all come from the declaration; these tests fail when a
generated copy is stale or when one of them stops following it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

import flowengine
from flowengine import _flow_format as ff
from flowengine._api._schedule import Schedule
from flowengine._engine._connection import (
    DEFAULT_BACK_PRESSURE_OBJECTS,
    DEFAULT_BACK_PRESSURE_SIZE,
)
from flowengine._engine._prioritizers import PRIORITIZERS
from flowengine._engine._retry import RetryPolicy

ROOT = Path(__file__).resolve().parents[2]
FLOW_FORMAT_PATH = ROOT / "docs" / "flow-format.md"
SCHEMA = json.loads((ROOT / "flows" / "flow.schema.json").read_text(encoding="utf-8"))
REGENERATE = "python -m flowengine._flow_format docs/flow-format.md"


def test_flow_format_tables_are_current() -> None:
    """The reference tables of docs/flow-format.md are what the declaration generates."""
    text = FLOW_FORMAT_PATH.read_text(encoding="utf-8")
    assert ff.update_docs(text) == text, f"regenerate: {REGENERATE}"


def test_every_section_has_its_table() -> None:
    """Each declared section is documented by a generated table, exactly once."""
    text = FLOW_FORMAT_PATH.read_text(encoding="utf-8")
    marked = re.findall(r"<!-- flow-format:(\w+) ", text)
    assert sorted(marked) == sorted(ff.SECTIONS)
    assert text.count("<!-- /flow-format -->") == len(marked)


def test_update_docs_rewrites_a_stale_table() -> None:
    """A hand-edited table between the markers is replaced (the stale check can fail)."""
    stale = "<!-- flow-format:retry (x) -->\n| made up |\n<!-- /flow-format -->\n"
    fresh = ff.update_docs(stale)
    assert "made up" not in fresh
    assert "| `max_backoff` | duration | `10 mins` |" in fresh


def test_defaults_come_from_the_declaration() -> None:
    """Schedule, RetryPolicy and connection back pressure use the declared defaults."""
    assert Schedule() == Schedule(**ff.SCHEDULE.defaults())
    policy = RetryPolicy(frozenset({"failure"}))
    declared = ff.RETRY.defaults()
    assert {k: getattr(policy, k) for k in declared} == declared
    objects, size = ff.BACK_PRESSURE["objects"], ff.BACK_PRESSURE["size"]
    assert (objects.default, size.default) == (
        DEFAULT_BACK_PRESSURE_OBJECTS,
        DEFAULT_BACK_PRESSURE_SIZE,
    )


def test_declared_prioritizers_are_the_engines() -> None:
    """The prioritizer names the schema offers are exactly those the engine has."""
    kind = ff.CONNECTION["prioritizers"].kind
    assert isinstance(kind, ff.Listed)
    assert set(kind.values) == set(PRIORITIZERS)


def test_schedule_checks_the_declared_minimums() -> None:
    """Schedule rejects an integer below its declared minimum, naming the key."""
    for f in ff.SCHEDULE:
        if isinstance(f.kind, ff.Integer) and f.kind.minimum is not None:
            with pytest.raises(ValueError, match=f.name):
                Schedule(**{f.name: f.kind.minimum - 1})


BASE = """\
flow: misspelt
parameters:
  p: {value: x}
services:
  s: {type: JsonTreeReader}
processors:
  gen:
    type: GenerateFlowFile
    schedule: {max_triggers: 1}
    retry: {relationships: [success]}
    auto_terminate: [success]
groups:
  inline: {processors: {}}
connections:
  - {from: gen, to: gen, back_pressure: {objects: 1}}
settings: {provenance: true}
"""


def _misspell(flow: dict[str, Any], where: str, key: str) -> None:
    """Add ``key`` (a misspelt key) to the mapping at ``where``."""
    targets: dict[str, dict[str, Any]] = {
        "flow": flow,
        "parameter": flow["parameters"]["p"],
        "service": flow["services"]["s"],
        "processor": flow["processors"]["gen"],
        "schedule": flow["processors"]["gen"]["schedule"],
        "retry": flow["processors"]["gen"]["retry"],
        "group": flow["groups"]["inline"],
        "connection": flow["connections"][0],
        "back_pressure": flow["connections"][0]["back_pressure"],
        "settings": flow["settings"],
    }
    targets[where][key] = 1


@pytest.mark.parametrize(
    ("where", "key", "meant"),
    [
        ("flow", "procesors", "processors"),
        ("parameter", "valeu", "value"),
        ("service", "propertes", "properties"),
        ("processor", "schedul", "schedule"),
        ("schedule", "perod", "period"),
        ("retry", "cout", "count"),
        ("group", "funnel", "funnels"),
        ("connection", "expirationn", "expiration"),
        ("back_pressure", "objets", "objects"),
        ("settings", "max_thread", "max_threads"),
    ],
)
def test_a_misspelt_key_is_rejected_by_loader_and_schema(
    tmp_path: Path, where: str, key: str, meant: str
) -> None:
    """Every section is strict in both the loader (with a did-you-mean) and the schema."""
    flow = yaml.safe_load(BASE)
    jsonschema.validate(flow, SCHEMA)  # the base is valid
    _misspell(flow, where, key)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(flow, SCHEMA)
    path = tmp_path / "flow.yaml"
    path.write_text(yaml.safe_dump(flow, sort_keys=False), encoding="utf-8")
    with pytest.raises(flowengine.ValidationError) as info:
        flowengine.load(path)
    hits = [p for p in info.value.problems if repr(key) in p]
    assert hits, info.value.problems
    assert f"(did you mean {meant!r}?)" in hits[0]
    assert re.match(rf"{re.escape(str(path))}:\d+:\d+: ", hits[0])


def test_docs_flows_validate_against_the_schema() -> None:
    """Every complete flow shown in docs/flow-format.md is valid per the schema too."""
    text = FLOW_FORMAT_PATH.read_text(encoding="utf-8")
    blocks = re.findall(r"^```yaml\n(.*?)^```", text, re.M | re.S)
    flows = [yaml.safe_load(b) for b in blocks if re.match(r"(#.*\n)*flow: ", b)]
    flows = [f for f in flows if f.get("flow") != "errs"]  # the page's invalid example
    assert len(flows) >= 2
    for flow in flows:
        jsonschema.validate(flow, SCHEMA)


def test_every_declared_key_has_a_doc_line() -> None:
    """Each key says what it means in one line (the docs and the schema show it)."""
    for section in ff.SECTIONS.values():
        for f in section:
            assert f.doc and "\n" not in f.doc, (section.name, f.name)


def test_schema_descriptions_come_from_the_declaration() -> None:
    """The schema describes a key with its declared doc line, without docs links."""
    schedule = SCHEMA["$defs"]["schedule"]["properties"]
    assert schedule["batch_size"]["description"].startswith(
        ff.SCHEDULE["batch_size"].description()
    )
    top = SCHEMA["properties"]["parameters"]["description"]
    assert top == "`#{name}` values"
    service = SCHEMA["$defs"]["service"]["properties"]["properties"]["description"]
    assert service == "property values"

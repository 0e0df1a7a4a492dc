"""ValidateJson through flowengine.testing: drafts, every error with its JSON
pointer in json.validation.errors, failure for non-JSON, schema checks at
validation."""

from __future__ import annotations

import json
from pathlib import Path

from flowengine.processors.json.validate_json import ValidateJson

from flowengine.testing import TestRunner

SCHEMA = json.dumps(
    {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "tags": {"type": "array", "prefixItems": [{"type": "string"}]},
        },
        "required": ["id", "name"],
    }
)


def _run(content: bytes, **props: str) -> TestRunner:
    runner = TestRunner(ValidateJson)
    runner.set_property("JSON Schema", SCHEMA)
    for k, v in props.items():
        runner.set_property(k, v)
    runner.enqueue(content)
    runner.run()
    return runner


def test_valid() -> None:
    assert len(_run(b'{"id": 1, "name": "a"}').flowfiles_for("valid")) == 1


def test_every_error_with_its_pointer() -> None:
    ff = _run(b'{"id": "x", "tags": [3]}').flowfiles_for("invalid")[0]
    errors = ff.attributes["json.validation.errors"]
    assert errors.startswith("[") and errors.endswith("]")
    assert '/id: "x" is not of type "integer"' in errors
    assert '/tags/0: 3 is not of type "string"' in errors  # prefixItems honoured
    assert ': "name" is a required property' in errors


def test_draft_4_ignores_prefix_items() -> None:
    """prefixItems is 2020-12 only: Draft 4 does not know it, so [3] passes."""
    ff = _run(
        b'{"id": 1, "name": "n", "tags": [3]}',
        **{"JSON Schema Version": "Draft 4"},
    ).flowfiles_for("valid")
    assert len(ff) == 1


def test_not_json_to_failure() -> None:
    ff = _run(b"{nope").flowfiles_for("failure")[0]
    assert "line 1 column 2" in ff.attributes["json.error"]


def test_deep_nesting_to_failure() -> None:
    ff = _run(b"[" * 10_000 + b"]" * 10_000).flowfiles_for("failure")[0]
    assert "too deep" in ff.attributes["json.error"]


def test_schema_from_file(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(SCHEMA)
    runner = TestRunner(ValidateJson)
    runner.set_property("JSON Schema", str(path))
    runner.enqueue(b'{"id": 1}')
    runner.run()
    assert len(runner.flowfiles_for("invalid")) == 1


def test_bad_schema_and_registry_strategy_rejected_at_validation() -> None:
    runner = TestRunner(ValidateJson)
    runner.set_property("JSON Schema", '{"type": 12}')
    assert any("not a valid schema" in p for p in runner.validate())
    runner = TestRunner(ValidateJson)
    runner.set_property("JSON Schema", "/no/such/file.json")
    assert any("hint:" in p for p in runner.validate())
    runner = TestRunner(ValidateJson)
    runner.set_property("Schema Access Strategy", "Schema Name Property")
    assert any("Registry" in p for p in runner.validate())

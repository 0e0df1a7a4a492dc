"""The shared Jolt fixtures, run through JoltTransformJSON in flowengine.testing.

``manifest.json`` says how each file is used. Every runnable case becomes one check;
Java-specific fixtures (custom Java classes) are not runnable and are counted apart.
The pass rate must stay at or above 95% and every NiFi processor fixture must pass;
docs/jolt-grok.md lists the known failures and why.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flowengine.processors.jolt._jolt import parse_json_with_comments
from flowengine.processors.jolt.transform_json import JoltTransformJSON

from flowengine.testing import TestRunner

ROOT = Path("/work/shared/conformance/jolt")
pytestmark = pytest.mark.skipif(not ROOT.is_dir(), reason="shared Jolt fixtures absent")

OP_TO_NIFI = {
    "shift": "jolt-transform-shift",
    "default": "jolt-transform-default",
    "remove": "jolt-transform-remove",
    "cardinality": "jolt-transform-card",
    "sort": "jolt-transform-sort",
    "chain": "jolt-transform-chain",
    "modify-overwrite-beta": "jolt-transform-modify-overwrite",
    "modify-default-beta": "jolt-transform-modify-default",
    "modify-define-beta": "jolt-transform-modify-define",
}
# Known failures, each explained in docs/jolt-grok.md (keep the two in step).
KNOWN_FAILURES = {
    # needs two test-only Java functions (minLabelComputation, maxLabelComputation)
    "modifier/functions/labelsLookupTest.json#DEFAULTR",
}


def _load(rel: str) -> Any:
    return parse_json_with_comments((ROOT / rel).read_text(encoding="utf-8"))


def _canon(value: Any) -> Any:
    """Jolt's array-order-insensitive comparison: lists compared as multisets."""
    if isinstance(value, dict):
        return {k: _canon(v) for k, v in value.items()}
    if isinstance(value, list):
        return sorted(
            (_canon(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True)
        )
    return value


class _WithContext(JoltTransformJSON):
    """JoltTransformJSON handing the fixture's Jolt context to the transform (NiFi
    itself passes an empty one; the modifier fixtures need theirs)."""

    context_map: dict[str, Any] = {}

    def jolt_context(self, ff: Any) -> dict[str, Any]:
        return self.context_map


def _run(
    transform: str,
    spec: Any,
    document: Any,
    attrs: dict[str, str] | None = None,
    context: dict[str, Any] | None = None,
) -> TestRunner:
    _WithContext.context_map = context or {}
    runner = TestRunner(_WithContext)
    runner.set_property("Jolt Transform", transform)
    if spec is not None:
        runner.set_property(
            "Jolt Specification", spec if isinstance(spec, str) else json.dumps(spec)
        )
    runner.enqueue(json.dumps(document).encode(), attributes=attrs or {})
    runner.run()
    return runner


def _output(runner: TestRunner) -> Any:
    done = runner.flowfiles_for("success")
    assert len(done) == 1, (
        runner.flowfiles_for("failure")[0].get("error.message")
        if runner.flowfiles_for("failure")
        else "nothing out"
    )
    return json.loads(done[0].content)


def _rejected(transform: str, spec: Any) -> None:
    runner = TestRunner(JoltTransformJSON)
    runner.set_property("Jolt Transform", transform)
    runner.set_property("Jolt Specification", json.dumps(spec))
    assert runner.validate(), "spec should have been rejected"


def _cases() -> Iterator[tuple[str, Callable[[], None]]]:
    manifest = json.loads((ROOT / "manifest.json").read_text(encoding="utf-8"))
    for e in manifest["entries"]:
        kind, rel = e["kind"], e["file"]
        if e.get("java_specific"):
            continue
        if kind == "transform":

            def check(e: dict[str, Any] = e) -> None:
                d = _load(e["file"])
                out = _output(
                    _run(OP_TO_NIFI[e["operation"]], d[e["spec"]], d[e["input"]])
                )
                assert out == d[e["expected"]]

            yield rel, check
        elif kind == "modifier":
            for cls, op in e["expected_by_operation"].items():

                def check(e: dict[str, Any] = e, cls: str = cls, op: str = op) -> None:
                    d = _load(e["file"])
                    out = _output(
                        _run(
                            OP_TO_NIFI[op],
                            d[e["spec"]],
                            d[e["input"]],
                            context=d.get(e["context"]),
                        )
                    )
                    if e["compare"] == "ordered":
                        assert out == d[cls]
                    else:
                        assert _canon(out) == _canon(d[cls])

                yield f"{rel}#{cls}", check
        elif kind == "invalid_spec":
            yield (
                rel,
                lambda e=e: _rejected(
                    OP_TO_NIFI[e["operation"]], _load(e["file"])[e["spec"]]
                ),
            )
        elif kind == "invalid_spec_list":
            for op in e["operations"]:
                for n, spec in enumerate(_load(rel)):
                    yield (
                        f"{rel}#{op}[{n}]",
                        lambda op=op, spec=spec: _rejected(OP_TO_NIFI[op], spec),
                    )
        elif kind == "invalid_chain_spec":

            def check(e: dict[str, Any] = e) -> None:
                d = _load(e["file"])
                _rejected(
                    "jolt-transform-chain",
                    d.get("spec", d) if isinstance(d, dict) else d,
                )

            yield rel, check
        elif kind == "chain_partial":

            def check(e: dict[str, Any] = e) -> None:
                chain = _load(e["spec_file"])
                chain = chain.get("spec", chain) if isinstance(chain, dict) else chain
                part = chain[e["start"] : e["end"]]
                assert _output(_run("jolt-transform-chain", part, e["input"])) == _load(
                    e["file"]
                )

            yield rel, check
        elif kind == "transform_files":

            def check(e: dict[str, Any] = e) -> None:
                expected = _load(e["expected_file"])
                runner = _run(OP_TO_NIFI[e["operation"]], None, _load(e["input_file"]))
                text = runner.flowfiles_for("success")[0].content
                assert json.dumps(json.loads(text)) == json.dumps(expected)

            yield rel, check
        elif kind == "nifi_processor":

            def check(e: dict[str, Any] = e) -> None:
                spec = (
                    (ROOT / e["spec_file"]).read_text(encoding="utf-8")
                    if "spec_file" in e
                    else None
                )
                runner = _run(
                    e["jolt_transform"], spec, _load(e["input_file"]), {"quota": "5"}
                )
                text = (
                    runner.flowfiles_for("success")[0].content
                    if runner.flowfiles_for("success")
                    else b"null"
                )
                out = json.loads(text)
                expected = _load(e["expected_file"])
                assert out == expected
                if e["jolt_transform"] == "jolt-transform-sort":
                    assert json.dumps(out) == json.dumps(expected)

            yield rel, check


CASES = list(_cases())


def test_conformance_rate() -> None:
    """≥ 95% of the runnable fixture cases pass; NiFi's processor fixtures all pass."""
    failed: dict[str, str] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the library warns about unknown functions
        for name, check in CASES:
            try:
                check()
            except AssertionError as exc:
                failed[name] = str(exc)[:200]
    rate = 1 - len(failed) / len(CASES)
    report = "\n".join(f"{k}: {v}" for k, v in sorted(failed.items()))
    assert not [k for k in failed if k.startswith("nifi-processor/")], report
    assert rate >= 0.95, f"{rate:.1%} of {len(CASES)}\n{report}"
    assert set(failed) == KNOWN_FAILURES, (
        f"{rate:.1%} of {len(CASES)}; failures changed:\n{report}"
    )

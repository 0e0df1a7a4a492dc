"""The settings docs/flow-format.md lists are accepted, checked when loaded, and applied."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

import flowengine
from flowengine._flow._loader import SETTINGS_KEYS, read_flow

ROOT = Path(__file__).resolve().parents[2]
FLOW_FORMAT = (ROOT / "docs" / "flow-format.md").read_text(encoding="utf-8")

GOOD = """\
flow: settings
settings:
  provenance: false
  administrative_yield: 5 sec
  max_threads: 2
  sync: always
  swap_threshold: 100
  swap_batch_size: 50
  content_directory: {content}
  content_max_size: 1 GB
  claim_max_appendable_size: 64 KB
  provenance_max_age: 7 days
  provenance_max_size: 100 MB
processors:
  gen:
    type: GenerateFlowFile
    properties: {{custom_text: x, batch_size: 10}}
    schedule: {{max_triggers: 1}}
    auto_terminate: [success]
"""


def test_every_loader_setting_is_documented() -> None:
    """The settings table names exactly the keys the loader accepts."""
    section = FLOW_FORMAT.split("## Settings", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `(\w+)`(?:, `(\w+)`)?", section, re.M))
    names = {n for pair in documented for n in pair if n}
    assert names == set(SETTINGS_KEYS)


def test_settings_are_applied_to_a_durable_run(tmp_path: Path) -> None:
    """A flow with every setting loads, runs durably and uses max_threads."""
    content = tmp_path / "content"
    path = tmp_path / "flow.yaml"
    path.write_text(GOOD.format(content=content), encoding="utf-8")
    flow = flowengine.load(path)
    seen: dict[str, Any] = {}
    result = flow.run(
        durable=True,
        state_dir=str(tmp_path / "state"),
        timeout=60,
        on_start=lambda rt: seen.update(max_threads=rt.max_threads),
    )
    with result:
        assert result.ok and result.drained
    assert seen == {"max_threads": 2}
    assert content.is_dir()  # content_directory was used


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("sync: sometimes", "settings sync: must be 'normal' or 'always'"),
        ("max_threads: 0", "settings max_threads: must be a whole number"),
        ("swap_threshold: lots", "settings swap_threshold: must be a whole number"),
        ("content_max_size: huge", "settings content_max_size: not a data size"),
        ("provenance_max_age: forever", "settings provenance_max_age: not a time"),
        ("administrative_yield: soon", "settings administrative_yield: not a time"),
        ("provenance: maybe", "settings provenance: must be true or false"),
    ],
)
def test_bad_setting_values_are_located_problems(
    tmp_path: Path, line: str, message: str
) -> None:
    """A bad settings value is reported at its line and column, before anything runs."""
    path = tmp_path / "flow.yaml"
    path.write_text(f"flow: s\nsettings:\n  {line}\n", encoding="utf-8")
    _, problems = read_flow(path)
    column = len(line.split(":")[0]) + 5  # the value, after "  key: "
    assert len(problems) == 1
    assert str(problems[0]).startswith(f"{path}:3:{column}: {message}")

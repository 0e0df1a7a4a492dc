"""docs/text-processors.md and docs/content-processors.md stay true: each flow runs and
emits the block after it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import flowengine

DOCS = Path(__file__).resolve().parents[2] / "docs"
#: a named YAML flow block followed by the text block of what leaves through `out`
EXAMPLE = re.compile(
    r"^`([\w.-]+\.yaml)`:\n\n```yaml\n(.*?)^```\n\n```text\n(.*?)^```", re.M | re.S
)
PAGES = {
    "text-processors.md": [
        "split.yaml",
        "reformat.yaml",
        "extract.yaml",
        "levels.yaml",
    ],
    "content-processors.md": ["merge.yaml", "tar.yaml", "compress.yaml", "decode.yaml"],
}
EXAMPLES = [
    (page, *found)
    for page in PAGES
    for found in EXAMPLE.findall((DOCS / page).read_text(encoding="utf-8"))
]


@pytest.mark.parametrize("page", PAGES)
def test_the_page_has_its_examples(page: str) -> None:
    """Every flow of the page is picked up (a renamed block would escape the test)."""
    assert [name for p, name, _, _ in EXAMPLES if p == page] == PAGES[page]


@pytest.mark.parametrize(
    ("page", "name", "flow", "expected"), EXAMPLES, ids=lambda v: str(v)[:20]
)
def test_example_flow_output(
    page: str, name: str, flow: str, expected: str, tmp_path: Path
) -> None:
    """The flow validates, drains, and its outputs are the documented contents."""
    path = tmp_path / name
    path.write_text(flow, encoding="utf-8")
    with flowengine.load(path).run(timeout=30) as res:
        got = [res.read(ff).decode() for ff in res.outputs["out"]]
    # a text block cannot show whether the content ends with a line break: compare
    # without trailing ones (the processors' own tests pin those down)
    want = [part.rstrip("\n") for part in expected.split("---\n")]
    assert sorted(g.rstrip("\n") for g in got) == sorted(want)

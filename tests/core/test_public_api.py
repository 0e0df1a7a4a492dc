"""The public surface stays small, sorted and honest; built-ins use only it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import flowengine

ROOT = Path(__file__).resolve().parents[2]


def test_all_is_sorted_and_importable() -> None:
    """Every name in __all__ resolves; the list is sorted."""
    assert flowengine.__all__ == sorted(flowengine.__all__)
    for name in flowengine.__all__:
        assert getattr(flowengine, name) is not None


def test_builtins_import_only_public_names() -> None:
    """processors/ and controller_services/ never import flowengine internals."""
    offenders = []
    for folder in ("processors", "controller_services"):
        for path in (ROOT / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.ImportFrom)
                    and node.module
                    and node.module.startswith("flowengine")
                ):
                    if node.module.startswith(
                        ("flowengine.processors", "flowengine.controller_services")
                    ):
                        continue  # built-ins may share helpers among themselves
                    parts = node.module.split(".")
                    if any(p.startswith("_") for p in parts) or (
                        node.module == "flowengine"
                        and any(a.name.startswith("_") for a in node.names)
                    ):
                        offenders.append(
                            f"{path.relative_to(ROOT)}: from {node.module} import ..."
                        )
    assert offenders == []


def test_import_is_lazy_and_help_is_fast() -> None:
    """Importing flowengine loads no engine modules (so the CLI starts fast)."""
    code = "import sys, flowengine; print(sorted(m for m in sys.modules if m.startswith('flowengine.')))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, flowengine._cli._cli; print('anyio' in sys.modules, 'pyarrow' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.strip() == "False False"

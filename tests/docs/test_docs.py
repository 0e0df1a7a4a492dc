"""The documentation stays true: its commands, code, flows and messages run as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import flowengine
from flowengine import _exit_codes
from flowengine._flow._loader import read_flow

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
FLOW_FORMAT = (ROOT / "docs" / "flow-format.md").read_text(encoding="utf-8")
WRITING = (ROOT / "docs" / "writing-processors.md").read_text(encoding="utf-8")

#: a code block announced by a line naming its file: `path/name.ext`:
NAMED_BLOCK = re.compile(r"^`([\w./-]+)`:\n\n```\w+\n(.*?)^```", re.M | re.S)


def named_blocks(text: str) -> dict[str, str]:
    """File name → content of every named code block of a page."""
    return dict(NAMED_BLOCK.findall(text))


def code_blocks(text: str, lang: str) -> list[str]:
    """Every fenced block of one language."""
    return re.findall(rf"^```{lang}\n(.*?)^```", text, re.M | re.S)


def cli(
    *args: str, cwd: Path, pythonpath: str = ""
) -> subprocess.CompletedProcess[str]:
    """Run the flowengine command as a user would."""
    env = dict(os.environ, PYTHONPATH=pythonpath)
    return subprocess.run(
        [sys.executable, "-m", "flowengine", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_readme_quick_start_is_verbatim() -> None:
    """The README's two quick-start commands appear exactly, in one code block."""
    commands = (
        "pip install -e . && flowengine run flows/hello.yaml --until-drained\n"
        'pip install -e ".[test]" -c constraints.txt && python -m pytest\n'
    )
    assert f"```\n{commands}```" in README
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert commands.splitlines()[1] in ci.splitlines(), "CI runs the README's command"


def test_readme_python_examples_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The embedding and transform snippets of the README run from the repo root."""
    monkeypatch.chdir(ROOT)
    blocks = code_blocks(README, "python")
    assert len(blocks) == 2
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {"__name__": "readme"})
    out = capsys.readouterr().out
    assert "RunResult(ok=True, drained=True" in out
    assert "doc-my-report.txt b'second'" in out


def test_flow_format_tour_validates_and_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The complete example of flow-format.md is valid and drains, writing its files."""
    path = tmp_path / "tour.yaml"
    path.write_text(named_blocks(FLOW_FORMAT)["tour.yaml"], encoding="utf-8")
    flow, problems = read_flow(path)
    assert flow is not None and not problems
    assert flow.validate() == []
    monkeypatch.chdir(tmp_path)
    with flowengine.load(path).run(until_drained=True, timeout=60) as result:
        assert result.ok and result.drained
        written = result.status.processor("write").flowfiles_in
    out = tmp_path / "out" / "tour"  # priority is random: maybe nothing was urgent
    assert (len(list(out.iterdir())) if out.exists() else 0) == written


def test_flow_format_validation_messages_are_current(tmp_path: Path) -> None:
    """The validation output shown for errs.yaml is what validate prints today."""
    (tmp_path / "errs.yaml").write_text(
        named_blocks(FLOW_FORMAT)["errs.yaml"], encoding="utf-8"
    )
    shown = re.search(
        r"^\$ flowengine validate errs.yaml\n(.*?)^```", FLOW_FORMAT, re.M | re.S
    )
    assert shown is not None
    r = cli("validate", "errs.yaml", cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.splitlines() == shown.group(1).splitlines(), (
        "update the errs.yaml output in docs/flow-format.md"
    )


def test_flow_format_exit_code_table_matches_the_cli() -> None:
    """Every exit code the CLI defines is in the table, with nothing extra."""
    table = FLOW_FORMAT.split("**Exit codes**", 1)[1]
    documented = {int(c) for c in re.findall(r"^\| (\d+) \|", table, re.M)}
    defined = {
        _exit_codes.EXIT_OK,
        _exit_codes.EXIT_ERROR,
        _exit_codes.EXIT_INVALID,
        _exit_codes.EXIT_FAILURES,
        _exit_codes.EXIT_TIMEOUT,
        _exit_codes.EXIT_CONFIG,
        _exit_codes.EXIT_STATE,
        _exit_codes.EXIT_SIGINT,
        _exit_codes.EXIT_SIGTERM,
    }
    assert documented == defined


def test_writing_processors_examples_pass_their_own_tests(tmp_path: Path) -> None:
    """Every module and test of writing-processors.md, written out, passes pytest."""
    blocks = named_blocks(WRITING)
    for name, body in blocks.items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body, encoding="utf-8")
    tests = [n for n in blocks if n.startswith("tests/")]
    expected = sum(blocks[n].count("\ndef test_") for n in tests)
    assert len(tests) >= 4 and expected >= 7
    env = dict(os.environ, PYTHONPATH=f"{tmp_path}{os.pathsep}{tmp_path / 'src'}")
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            "tests",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"{expected} passed" in r.stdout


@pytest.mark.parametrize("flow", ["words.yaml", "numbers.yaml"])
def test_writing_processors_flows_run(tmp_path: Path, flow: str) -> None:
    """The guide's flows using module:Class types drain with exit code 0."""
    for name, body in named_blocks(WRITING).items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body, encoding="utf-8")
    path = f"{tmp_path}{os.pathsep}{tmp_path / 'src'}"
    r = cli(
        "run",
        flow,
        "--until-drained",
        "--in-memory",
        "--timeout",
        "60",
        cwd=tmp_path,
        pythonpath=path,
    )
    assert r.returncode == 0, r.stderr


ARCHITECTURE = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")


def test_architecture_module_map_lists_every_engine_module() -> None:
    """Every flowengine module (``_engine/_node.py``; ``expression/`` and
    ``_repository/_durable/`` are named as folders) is named in the module map."""
    top = ROOT / "flowengine"
    modules = {
        p.relative_to(top).as_posix()
        for p in top.rglob("*.py")
        if p.name != "__init__.py" and p.parts[-2] not in {"expression", "_durable"}
    }
    named = {
        n
        for n in re.findall(
            r"`((?:_\w+/)*(?:_\w+|testing|__main__)\.py)`", ARCHITECTURE
        )
        if not n.startswith("_repository/_durable/")
    }
    assert sorted(modules - named) == [], "add them to docs/architecture.md"
    assert sorted(named - modules - {"__init__.py"}) == []


def test_architecture_cites_tests_that_exist() -> None:
    """Each test the invariants table cites is defined somewhere under tests/."""
    cited = set(re.findall(r"`(test_\w+)`", ARCHITECTURE))
    assert len(cited) >= 10
    source = "\n".join(
        p.read_text(encoding="utf-8") for p in (ROOT / "tests").rglob("test_*.py")
    )
    missing = sorted(n for n in cited if f"def {n}(" not in source)
    assert missing == []


def test_architecture_cites_methods_that_exist() -> None:
    """Each `Class.method` the architecture names is defined on that class."""
    import ast

    defined: set[str] = set()
    for path in (ROOT / "flowengine").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                        defined.add(f"{node.name}.{item.name}")
    cited = set(re.findall(r"`([A-Z]\w+\.[a-z_]\w*)(?:\(\))?`", ARCHITECTURE))
    assert len(cited) >= 15
    assert sorted(cited - defined) == []


def console_output(text: str, command: str) -> list[str]:
    """The lines a console block shows after ``$ command`` (up to the next ``$``)."""
    m = re.search(rf"^\$ {re.escape(command)}\n(.*?)^(?:\$|```)", text, re.M | re.S)
    assert m is not None, f"no console block for {command!r}"
    return [line for line in m.group(1).splitlines() if line != "..."]


def test_readme_hello_flow_is_the_real_file() -> None:
    """The flow the README tours is flows/hello.yaml, without its header comment."""
    real = (ROOT / "flows" / "hello.yaml").read_text(encoding="utf-8")
    body = "".join(line for line in real.splitlines(True) if not line.startswith("#"))
    assert body in code_blocks(README, "yaml")


def test_readme_run_summary_matches_a_real_run(tmp_path: Path) -> None:
    """The processor rows of the README's summary table are what hello.yaml prints."""
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "hello.yaml").write_bytes(
        (ROOT / "flows" / "hello.yaml").read_bytes()
    )
    r = cli("run", "flows/hello.yaml", "--until-drained", "--in-memory", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    shown = console_output(README, "flowengine run flows/hello.yaml --until-drained")
    rows = [line for line in shown if line.startswith("│")]
    assert len(rows) == 6

    def cells(row: str) -> list[str]:
        # every column but "tasks" (triggers), which depends on timing
        parts = [c.strip() for c in row.strip("│").split("│")]
        return parts[:7] + parts[8:]

    printed = [cells(line) for line in r.stderr.splitlines() if line.startswith("│")]
    assert [row for row in rows if cells(row) not in printed] == []
    assert len(list((tmp_path / "out" / "en").iterdir())) == 5


README_OOPS = """\
flow: oops
processors:
  gen:
    type: GenerateFlowFle
    schedule: {max_trigers: 1}
  route:
    type: RouteOnAttribute
    properties: {big: "${fileSize:gt(100)}"}
    auto_terminate: [unmatched]
  log: {type: LogAttribute, properties: {log_level: loud}, auto_terminate: [success]}
connections:
  - gen -> route
  - route:bigg -> log
"""


def test_readme_validate_output_is_current(tmp_path: Path) -> None:
    """The README's validate example prints exactly the messages it shows."""
    (tmp_path / "oops.yaml").write_text(README_OOPS, encoding="utf-8")
    r = cli("validate", "oops.yaml", cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.splitlines() == console_output(
        README, "flowengine validate oops.yaml"
    )


def test_readme_describe_excerpt_is_current(tmp_path: Path) -> None:
    """Every line of the README's describe excerpt is in the real output, in order."""
    r = cli("describe", "UpdateAttribute", cwd=tmp_path)
    assert r.returncode == 0
    printed = iter(r.stdout.splitlines())
    missing = [
        line
        for line in console_output(README, "flowengine describe UpdateAttribute")
        if line not in printed
    ]
    assert missing == []


def test_writing_processors_shows_the_real_example_plugin() -> None:
    """The guide's copies of examples/plugin files are those files, byte for byte."""
    blocks = named_blocks(WRITING)
    shown = [n for n in blocks if (ROOT / "examples" / "plugin" / n).is_file()]
    assert len(shown) == 4
    stale = [
        n
        for n in shown
        if (ROOT / "examples" / "plugin" / n).read_text(encoding="utf-8") != blocks[n]
    ]
    assert stale == [], "copy them into docs/writing-processors.md"


def test_flow_format_python_example_prints_what_it_shows(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The programmatic flow of flow-format.md runs and prints the documented output."""
    code = named_blocks(FLOW_FORMAT)["programmatic.py"]
    exec(compile(code, "programmatic.py", "exec"), {"__name__": "doc"})
    m = re.search(
        r"^anyio\.run\(main\)\n```\n\n```text\n(.*?)^```", FLOW_FORMAT, re.M | re.S
    )
    assert m is not None
    assert capsys.readouterr().out == m.group(1)

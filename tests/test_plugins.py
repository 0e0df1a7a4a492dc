"""Plugins: discovery by entry point and module:Class; a broken plugin is isolated."""

from __future__ import annotations

import json
import site
import subprocess
import sys
import textwrap
import venv
from pathlib import Path

import pytest

import flowengine
from flowengine._flow._registry import Registry

ROOT = Path(__file__).resolve().parents[1]


def _broken_package(tmp_path: Path) -> Path:
    pkg = tmp_path / "broken"
    (pkg / "src" / "broken_plugin").mkdir(parents=True)
    (pkg / "src" / "broken_plugin" / "__init__.py").write_text(
        "raise ImportError('needs libfoo 9, which is not installed')\n"
    )
    (pkg / "pyproject.toml").write_text(
        textwrap.dedent(
            """\
            [build-system]
            requires = ["setuptools>=69"]
            build-backend = "setuptools.build_meta"
            [project]
            name = "broken-plugin"
            version = "0.0.1"
            [project.entry-points."flowengine.processors"]
            BrokenThing = "broken_plugin:BrokenThing"
            [tool.setuptools.packages.find]
            where = ["src"]
            """
        )
    )
    return pkg


@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtual environment (sharing this one's packages) with the example plugin and a
    broken plugin installed from their source folders.

    It shares the *running* interpreter's site-packages through a ``.pth`` file rather than
    ``system_site_packages=True``: inside a virtual environment (how users run the suite) the
    latter inherits the base interpreter's packages, not this environment's, so neither
    flowengine nor its dependencies would be importable. ``site.addsitedir`` (not a bare
    path line) so the shared directories' own ``.pth`` files, such as the editable install
    of flowengine, are processed too."""
    tmp = tmp_path_factory.mktemp("plugins")
    env_dir = tmp / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    own_site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    shared = [p for p in site.getsitepackages() if Path(p).is_dir()]
    (Path(own_site) / "_share_running_env.pth").write_text(
        "import site; " + "; ".join(f"site.addsitedir({p!r})" for p in shared) + "\n"
    )
    for src in (ROOT / "examples" / "plugin", _broken_package(tmp)):
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--no-deps",
                "--prefix",
                str(env_dir),
                str(src),
            ],
            check=True,
            capture_output=True,
        )
    return python


def test_plugin_types_are_found_by_name(plugin_env: Path, tmp_path: Path) -> None:
    """A flow uses the installed plugin's processors by type name."""
    flow = tmp_path / "plugin.yaml"
    flow.write_text(
        textwrap.dedent(
            """\
            flow: plugin
            input_ports: [in]
            processors:
              count: {type: CountWords, properties: {Long Text Threshold: 3}}
              rev: {type: Reverse, auto_terminate: [failure]}
              write: {type: PutFile, properties: {directory: ./out}, auto_terminate: [success, failure]}
            connections:
              - in -> count
              - count:success,long -> rev
              - count:failure -> write
              - rev -> write
            """
        )
    )
    code = textwrap.dedent(
        f"""\
        import flowengine
        flow = flowengine.load({str(flow)!r})
        with flow.run(inputs={{"in": [(b"one two", {{"filename": "a"}}), (b"x y z w", {{"filename": "b"}})]}}, timeout=30) as r:
            print(r.counts["count"].relationship_counts["success"], r.counts["count"].relationship_counts["long"], r.ok)
        """
    )
    out = subprocess.run(
        [str(plugin_env), "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["1", "1", "True"]
    assert (tmp_path / "out" / "a").read_bytes() == b"owt eno"


def test_broken_plugin_is_reported_and_does_not_break_others(plugin_env: Path) -> None:
    """`processors` lists the good types and names the broken package."""
    r = subprocess.run(
        [str(plugin_env), "-m", "flowengine", "processors", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    names = {p["type"] for p in data["processors"]}
    assert {"CountWords", "Reverse", "UpdateAttribute"} <= names
    (err,) = [e for e in data["errors"] if e["type"] == "BrokenThing"]
    assert "broken-plugin" in err["error"] and "needs libfoo 9" in err["error"]


def test_module_class_reference_without_packaging(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`type: package.module:ClassName` loads a processor that is not installed."""
    (tmp_path / "myprocs.py").write_text(
        textwrap.dedent(
            """\
            import flowengine

            @flowengine.transform
            def exclaim(flowfile, content):
                return content + b"!"
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    f = flowengine.Flow("mod", registry=Registry())
    f.add_input_port("in")
    f.add_output_port("out")
    f.add_processor("x", "myprocs:exclaim", auto_terminate=["failure"])
    f.connect("in", "x")
    f.connect("x", "out")
    with f.run(inputs={"in": [b"hi"]}, timeout=30) as res:
        assert res.read(res.outputs["out"][0]) == b"hi!"
    bad = flowengine.Flow("bad", registry=Registry())
    bad.add_processor("x", "myprocs:nothing_here")
    assert any("could not be loaded" in str(p) for p in bad.validate())

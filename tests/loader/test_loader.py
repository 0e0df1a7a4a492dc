"""Flow files: structure, located problems, parameters, groups from files."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import flowengine
from flowengine._flow._loader import read_flow

FLOWS = Path(__file__).resolve().parents[2] / "flows"


def write(tmp_path: Path, text: str, name: str = "flow.yaml") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


def problems(path: Path, **params: str) -> list[str]:
    flow, found = read_flow(path)
    if flow is not None and not found:
        found = flow.validate(params or None)
    return [str(p) for p in found]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "1:1: the flow file is empty"),
        ("- a\n- b\n", "1:1: a flow file must be a mapping"),
        ("flow: x\nprocessors:\n\tgen: {}\n", "tab character"),
        ("flow: x\nflow: y\n", "2:1: duplicate key 'flow' (first defined at line 1)"),
        (
            "flow: x\nprocesors: {}\n",
            "2:1: unknown key 'procesors' in the flow (did you mean 'processors'?)",
        ),
        (
            "flow: x\nparameters: !!python/object:os.system {}\n",
            "YAML tag 'tag:yaml.org,2002:python/object:os.system' is not allowed",
        ),
        ("description: no name\n", "missing required key 'flow'"),
        ("flow: [a]\n", "'flow' (the flow's name) must be a string"),
        ("flow: x\nconnections: ['a => b']\n", "expected 'source -> destination'"),
    ],
)
def test_bad_files_are_located(tmp_path: Path, text: str, expected: str) -> None:
    """Malformed flow files are rejected with file:line:col and a hint."""
    got = problems(write(tmp_path, text))
    assert any(expected in p for p in got), got
    assert all(p.startswith(str(tmp_path)) for p in got), got


def test_five_mistakes_five_located_errors(tmp_path: Path) -> None:
    """A file with five distinct mistakes yields five errors, each with line:col."""
    path = write(
        tmp_path,
        """\
        flow: five
        processors:
          gen:
            type: GenerateFlowFil
          tag:
            type: UpdateAttribute
            properties: {delete_attributes_expression: "(["}
            schedule: {perod: 1 sec}
          route:
            type: RouteOnAttribute
            properties: {ok: "${x:equals('1')}"}
            auto_terminate: [unmatchd]
        connections:
          - tag -> route
          - route:ok -> nowhere
        """,
    )
    got = problems(path)
    assert len(got) == 5, "\n".join(got)
    lines = sorted(int(p.split(":")[1]) for p in got)
    assert lines == [4, 7, 8, 12, 15]


def test_connection_to_missing_processor_names_it(tmp_path: Path) -> None:
    """A connection to an unknown component suggests the closest name."""
    path = write(
        tmp_path,
        "flow: c\nprocessors:\n  upd: {type: UpdateAttribute, auto_terminate: [success]}\ninput_ports: [in]\nconnections:\n  - in -> udp\n",
    )
    got = problems(path)
    assert any(
        "6:5: connection destination 'udp': nothing named 'udp' in group 'root' (did you mean 'upd'?)"
        in p
        for p in got
    ), got


def test_parameter_never_defined_is_located_in_the_value(tmp_path: Path) -> None:
    """An undefined #{param} points at the reference inside the value."""
    path = write(
        tmp_path,
        'flow: p\nprocessors:\n  gen:\n    type: GenerateFlowFile\n    properties: {custom_text: "hi #{who}"}\n    auto_terminate: [success]\n',
    )
    got = problems(path)
    assert any(
        ":5:35: processor 'gen': property 'custom_text': parameter #{who} is not defined"
        in p
        for p in got
    ), got
    assert problems(path, who="you") == []


def test_parameters_from_env_and_overrides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """{env: NAME} reads the environment; load(parameters=) overrides the file."""
    monkeypatch.setenv("FE_TEST_GREETING", "from env")
    path = write(
        tmp_path,
        """\
        flow: env
        parameters:
          greeting: {env: FE_TEST_GREETING}
          n: 2
        processors:
          gen: {type: GenerateFlowFile, properties: {custom_text: "#{greeting}", batch_size: "#{n}"}, schedule: {max_triggers: 1}}
        output_ports: [out]
        connections: [gen -> out]
        """,
    )
    with flowengine.load(path).run(timeout=10) as res:
        assert [res.read(f) for f in res.outputs["out"]] == [b"from env"] * 2
    with flowengine.load(path, parameters={"n": 3}).run(timeout=10) as res:
        assert len(res.outputs["out"]) == 3


def test_load_raises_with_every_problem(tmp_path: Path) -> None:
    """load() refuses an invalid file, listing all problems."""
    path = write(
        tmp_path, "flow: x\nprocessors:\n  a: {type: Nope}\n  b: {type: Nope2}\n"
    )
    with pytest.raises(flowengine.ValidationError) as exc:
        flowengine.load(path)
    assert len(exc.value.problems) == 2


def test_group_from_file_with_its_own_parameters() -> None:
    """A group file is reused like a function with call-site parameters."""
    flow = flowengine.load(
        FLOWS / "nested_group.yaml", parameters={"out_dir": "/unused"}
    )
    plan = flow.plan()
    assert plan.nodes["clean.rename"].dynamic == {
        "filename": "report-${filename:toLower():replaceAll('[^a-z0-9.]+', '-')}",
        "stage": "cleaned",
    }


def test_group_file_cycle_is_reported(tmp_path: Path) -> None:
    """Group files that include each other are an error, not a recursion."""
    write(tmp_path, "flow: a\ngroups:\n  b: {file: b.yaml}\n", "a.yaml")
    write(tmp_path, "flow: b\ngroups:\n  a: {file: a.yaml}\n", "b.yaml")
    got = problems(tmp_path / "a.yaml")
    assert any(
        "include each other in a cycle (a.yaml -> b.yaml -> a.yaml)" in p for p in got
    ), got


def test_mapping_connection_with_options(tmp_path: Path) -> None:
    """The mapping form sets back pressure, prioritizers and expiration."""
    path = write(
        tmp_path,
        """\
        flow: m
        processors:
          gen: {type: GenerateFlowFile, schedule: {max_triggers: 1}}
          log: {type: LogAttribute, auto_terminate: [success]}
        connections:
          - {from: gen, to: log, relationships: [success], back_pressure: {objects: 5, size: 1 MB},
             prioritizers: [OldestFlowFileFirst], expiration: 1 hour}
        """,
    )
    c = flowengine.load(path).plan().connections[0]
    assert (
        c.back_pressure_objects,
        c.back_pressure_size,
        c.expiration,
        c.prioritizers,
    ) == (5, 1024**2, 3600.0, ("OldestFlowFileFirst",))


def test_example_flows_are_valid() -> None:
    """Every shipped example flow validates."""
    for path in sorted(FLOWS.glob("*.yaml")):
        assert problems(path) == [], path

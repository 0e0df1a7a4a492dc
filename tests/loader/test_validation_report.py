"""Validation reports every problem in one pass, with suggestions that are true (issue 23 item 8)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from flowengine._flow._loader import read_flow


def write(tmp_path: Path, text: str, name: str = "flow.yaml") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


def problems(path: Path) -> list[str]:
    flow, found = read_flow(path)
    if flow is not None and not found:
        found = flow.validate(None)
    return [str(p) for p in found]


def test_unknown_type_does_not_hide_other_processors_problems(tmp_path: Path) -> None:
    """An unknown processor type is reported beside the other processors' problems, and
    its good neighbours' connections to it still count as connected."""
    path = write(
        tmp_path,
        """\
        flow: f
        processors:
          gen: {type: GenerateFlowFile, schedule: {max_triggers: 1}}
          mystery: {type: NoSuchThing}
          upd: {type: UpdateAttribute}
          log: {type: LogAttribute}
          other: {type: LogAttribute}
        connections:
          - gen -> mystery
          - mystery -> upd
          - upd -> log
        """,
    )
    got = problems(path)
    assert any("4:19: processor 'mystery': unknown processor type" in p for p in got), (
        got
    )
    # log's success is unconnected; other has no input and an unconnected success.
    assert sum("relationship 'success' is not connected" in p for p in got) == 2, got
    assert any(
        "'other': LogAttribute requires an incoming connection" in p for p in got
    )
    # gen -> mystery connects gen's success; mystery -> upd feeds upd.
    assert not any("'gen'" in p or "'upd'" in p for p in got), got


def test_nifi_types_we_lack_are_named_not_miscorrected(tmp_path: Path) -> None:
    """`flowengine validate` says a NiFi type is not available instead of suggesting an
    unrelated flowengine type; real typos still get a did-you-mean; a type of the other
    kind says so."""
    path = write(
        tmp_path,
        """\
        flow: t
        services:
          grok: {type: CEFReader}
          gen: {type: GenerateFlowFile}
        processors:
          a: {type: EvaluateXQuery, auto_terminate: [matched]}
          b: {type: GenerateFlowFle, auto_terminate: [success]}
          c: {type: CSVReader}
          d: {type: org.apache.nifi.processors.standard.UpdateAttribute}
        """,
    )
    run = subprocess.run(
        [sys.executable, "-m", "flowengine", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode != 0
    out = run.stdout + run.stderr
    assert (
        "3:16: service 'grok': unknown controller service type 'CEFReader': NiFi's CEFReader is not available in flowengine yet"
        in out
    ), out
    assert "AvroReader" not in out and "RouteOnAttribute" not in out, out
    assert (
        "6:13: processor 'a': unknown processor type 'EvaluateXQuery': NiFi's EvaluateXQuery is not available in flowengine yet"
        in out
    ), out
    assert "'GenerateFlowFle' (did you mean 'GenerateFlowFile'?)" in out, out
    assert "'GenerateFlowFile' is a processor, not a controller service" in out, out
    assert "'CSVReader' is a controller service, not a processor" in out, out
    assert "(did you mean 'UpdateAttribute'?)" in out, out
    assert "6 problem(s)" in out, out


def test_dynamic_property_close_to_a_declared_one_is_an_error(tmp_path: Path) -> None:
    """A dynamic property a typo away from a declared one is rejected with a
    did-you-mean (snake_case or display name, any case); far names stay dynamic."""
    path = write(
        tmp_path,
        """\
        flow: d
        services:
          r: {type: JsonTreeReader}
          w: {type: JsonRecordSetWriter}
        processors:
          gen:
            type: GenerateFlowFile
            properties: {custom_txt: hi, lang: en, Batch Sise: 2}
            auto_terminate: [success]
          q:
            type: QueryRecord
            properties:
              record_reader: r
              record_writer: w
              include_zero_record_flowfile: "false"
              big: SELECT * FROM FLOWFILE
            auto_terminate: [failure, original, big]
        connections:
          - gen -> q
        """,
    )
    got = problems(path)
    assert got == [
        f"{path}:8:18: processor 'gen': unknown property 'custom_txt' (did you mean 'custom_text'?); if it is meant as a dynamic property, put it under dynamic_properties",
        f"{path}:8:44: processor 'gen': unknown property 'Batch Sise' (did you mean 'batch_size'?); if it is meant as a dynamic property, put it under dynamic_properties",
        f"{path}:15:7: processor 'q': unknown property 'include_zero_record_flowfile' (did you mean 'include_zero_record_flowfiles'?); if it is meant as a dynamic property, put it under dynamic_properties",
    ], got


def test_dynamic_properties_section_says_yes_i_mean_it(tmp_path: Path) -> None:
    """Names under dynamic_properties are dynamic however close to a declared name; a
    declared name there, or on a component without dynamic properties, is an error; the
    section is in the JSON schema."""
    import json

    import jsonschema
    import yaml

    text = """\
        flow: d
        processors:
          gen:
            type: GenerateFlowFile
            properties: {custom_text: hi}
            dynamic_properties: {custom_txt: "an attribute, really"}
            schedule: {max_triggers: 1}
            auto_terminate: [success]
        """
    path = write(tmp_path, text)
    assert problems(path) == []
    flow, _ = read_flow(path)
    assert flow is not None
    assert flow.processors["gen"].dynamic_properties == {
        "custom_txt": "an attribute, really"
    }
    schema = json.loads(
        (Path(__file__).resolve().parents[2] / "flows" / "flow.schema.json").read_text()
    )
    jsonschema.validate(yaml.safe_load(textwrap.dedent(text)), schema)
    bad = write(
        tmp_path,
        """\
        flow: d
        processors:
          gen:
            type: GenerateFlowFile
            dynamic_properties: {batch_size: "2"}
            auto_terminate: [success]
          put:
            type: PutFile
            properties: {directory: out}
            dynamic_properties: {extra: x}
            auto_terminate: [success, failure]
        """,
        "bad.yaml",
    )
    got = problems(bad)
    assert got == [
        f"{bad}:5:26: processor 'gen': 'batch_size' is the declared property 'batch_size': put it under properties",
        f"{bad}:10:26: processor 'put': PutFile does not take dynamic properties ('extra')",
    ], got


def test_query_record_sql_is_parsed_at_validation(tmp_path: Path) -> None:
    """QueryRecord's queries are parsed by `validate`, located at the value; a query
    with Expression Language is left to run time (its text is known only then)."""
    path = write(
        tmp_path,
        """\
        flow: q
        services:
          r: {type: JsonTreeReader}
          w: {type: JsonRecordSetWriter}
        processors:
          gen: {type: GenerateFlowFile, schedule: {max_triggers: 1}}
          q:
            type: QueryRecord
            properties:
              record_reader: r
              record_writer: w
              bad: SELEC * FROM FLOWFILE
              two: "SELECT 1; SELECT 2"
              del: DELETE FROM FLOWFILE
              ok: SELECT * FROM FLOWFILE WHERE x = '${x}'
              cte: WITH a AS (SELECT * FROM FLOWFILE) SELECT * FROM a
            auto_terminate: [failure, original, bad, two, del, ok, cte]
        connections:
          - gen -> q
        """,
    )
    run = subprocess.run(
        [sys.executable, "-m", "flowengine", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 2, run
    lines = run.stderr.strip().splitlines()
    assert lines == [
        f"{path}:12:12: processor 'q': dynamic property 'bad': SQL does not parse: syntax error at or near \"SELEC\"",
        f"{path}:13:13: processor 'q': dynamic property 'two': expected one SQL statement, found 2",
        f"{path}:14:12: processor 'q': dynamic property 'del': expected a SELECT statement, found DELETE",
        f"{path}: 3 problem(s)",
    ], run.stderr

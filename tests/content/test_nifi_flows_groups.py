"""The hand-rewritten NiFi flows CsvToJson and port-moved-groups-snapshot-v2 produce what
NiFi would (issue 14: four NiFi flows rewritten as YAML, their outputs checked)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import flowengine

FLOWS = Path(__file__).resolve().parents[2] / "flows" / "nifi"


def test_csv_to_json_writes_the_four_columns_into_the_json_template() -> None:
    """One FlowFile: "a,b,c,d" split by ExtractText into csv.1..4, written by ReplaceText2
    into the JSON template, whitespace exactly as the NiFi flow's replacement value has it."""
    with flowengine.load(FLOWS / "CsvToJson.yaml").run(timeout=30) as res:
        (ff,) = res.outputs["out"]
        text = res.read(ff).decode()
        assert text == (
            '{ "field1" : "a", "field2" : "b",\n'
            '                            "field3" : "c", "field4" : "d" }\n'
            "                        "
        )
        assert json.loads(text) == {
            "field1": "a",
            "field2": "b",
            "field3": "c",
            "field4": "d",
        }
        assert [ff.attributes[f"csv.{i}"] for i in range(1, 5)] == ["a", "b", "c", "d"]
        # Include Capture Group 0 is false in the NiFi flow: no csv.0; NiFi still writes
        # the bare name with the first capture group.
        assert "csv.0" not in ff.attributes
        assert ff.attributes["csv"] == "a"


def test_port_moved_groups_passes_flowfiles_through_the_moved_port_unchanged() -> None:
    """FlowFiles entering the root port reach parent.in (the port moved out of the empty
    child group) and UpdateAttribute, and leave with content and attributes unchanged."""
    flow = flowengine.load(FLOWS / "port_moved_groups.yaml")
    inputs = {"in": [(b"one", {"k": "1"}), (b"two", {"k": "2"})]}
    with flow.run(inputs=inputs, timeout=30) as res:
        out = res.outputs["out"]
        assert sorted(res.read(ff) for ff in out) == [b"one", b"two"]
        assert sorted(ff.attributes["k"] for ff in out) == ["1", "2"]


def test_literal_transcription_of_port_moved_groups_is_rejected_like_nifi_invalid(
    tmp_path: Path,
) -> None:
    """The snapshot's ReplaceText has no incoming connection: NiFi marks it invalid (it
    requires input) and never runs it; flowengine rejects it before start, with the reason
    and where. That is why the rewrite leaves the pair out."""
    literal = tmp_path / "literal.yaml"
    literal.write_text(
        "flow: literal\n"
        "groups:\n"
        "  parent:\n"
        "    input_ports: [in]\n"
        "    processors:\n"
        "      replace_text:\n"
        "        type: ReplaceText\n"
        "        properties: {Search Value: '(?s)(^.*$)', Replacement Value: $1}\n"
        "      update_from_replace: {type: UpdateAttribute, auto_terminate: [success]}\n"
        "      update_attribute: {type: UpdateAttribute, auto_terminate: [success]}\n"
        "    connections:\n"
        "      - in -> update_attribute\n"
        "      - replace_text:success,failure -> update_from_replace\n"
    )
    with pytest.raises(flowengine.ValidationError) as err:
        flowengine.load(literal)
    message = str(err.value)
    assert "literal.yaml:6:7" in message
    assert "ReplaceText requires an incoming connection" in message

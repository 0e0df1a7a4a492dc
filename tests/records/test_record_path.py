"""Record paths: parsing, column-wise evaluation and setting."""

from __future__ import annotations

import pyarrow as pa
import pytest
from flowengine.controller_services.records import RecordPathError, compile_path


@pytest.fixture
def batch(nested_table: pa.Table) -> pa.RecordBatch:
    """A batch with structs, lists and a map."""
    t = nested_table.append_column(
        "attrs",
        pa.array([[("color", "red")], [], None], pa.map_(pa.string(), pa.string())),
    )
    return t.combine_chunks().to_batches()[0]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/id", [1, 2, 3]),
        ("/customer/region", ["eu", None, "us"]),
        ("/customer/name", ["Zoë", None, None]),
        ("/items[0]/sku", ["a", None, None]),
        ("/items[1]/qty", [None, None, None]),
        ("/items[-1]/sku", ["b", None, None]),
        ("/tags[1]", ["y", None, None]),
        ("/attrs['color']", ["red", None, None]),
        ('/attrs["size"]', [None, None, None]),
        ("/missing", [None, None, None]),
        ("/id/deeper", [None, None, None]),
    ],
)
def test_evaluate(batch: pa.RecordBatch, path: str, expected: list[object]) -> None:
    """A path yields one value per record, null where it does not resolve."""
    assert compile_path(path).evaluate(batch).to_pylist() == expected


def test_set_top_level_nested_and_new_fields(batch: pa.RecordBatch) -> None:
    """Field paths can be set; a new top-level field is appended; parent nulls stay null."""
    out = compile_path("/customer/region").set(batch, pa.array(["R1", "R2", "R3"]))
    assert out.column(out.schema.get_field_index("customer")).to_pylist() == [
        {"name": "Zoë", "region": "R1"},
        None,
        {"name": None, "region": "R3"},
    ]
    out = compile_path("/status").set(out, pa.array(["a", "b", "c"]))
    assert out.schema.names[-1] == "status"
    with pytest.raises(RecordPathError, match="does not exist"):
        compile_path("/nope/x").set(batch, pa.array([1, 2, 3]))
    with pytest.raises(RecordPathError, match="cannot be set"):
        compile_path("/items[0]").set(batch, pa.array([1, 2, 3]))


@pytest.mark.parametrize("text", ["id", "/a[", "/a/[0", "[0]", "/a['x]"])
def test_bad_paths_are_rejected(text: str) -> None:
    """Malformed record paths raise RecordPathError."""
    with pytest.raises(RecordPathError):
        compile_path(text)


def test_field_name_is_the_last_field_step() -> None:
    """field_name names what a path selects (used for partition attributes)."""
    assert compile_path("/a/b[0]").field_name == "b"

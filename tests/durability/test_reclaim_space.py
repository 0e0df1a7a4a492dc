"""A drained durable run gives flowfiles.db's space back (issue 25.7)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

import flowengine
from flowengine import ProcessContext, Processor, ProcessSession, Relationship

from .conftest import Collect, Gate, Source, run_flow, run_until_queued

pytestmark = pytest.mark.faults

Q = "big:success->gate"


class BigAttributes(Processor):
    """Adds a 20 KB attribute to every FlowFile."""

    SUCCESS = Relationship("success")

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        for ff in session.get(context.batch_size):
            ff = session.put_attribute(ff, "big", "x" * 20_000 + ff.get("n", ""))
            session.transfer(ff, self.SUCCESS)


def _flow() -> flowengine.Flow:
    f = flowengine.Flow("reclaim")
    f.add_processor("src", Source, {"total": "1500", "per_trigger": "100"})
    f.add_processor("big", BigAttributes, schedule={"batch_size": 100})
    f.add_processor("gate", Gate, {"key": "g"}, schedule={"batch_size": 100})
    f.add_processor("sink", Collect, {"key": "out"}, schedule={"batch_size": 100})
    f.connect("src", "big")
    f.connect("big", "gate")
    f.connect("gate", "sink")
    return f


def test_drained_repository_shrinks(
    tmp_path: Path, gate: threading.Event, records: dict
) -> None:
    run_until_queued(_flow(), tmp_path, Q, 1500).close()
    db = tmp_path / "flowfiles.db"
    full = db.stat().st_size
    assert full > 25 * 1024**2  # 1,500 x 20 KB attributes
    gate.set()
    run_flow(_flow(), tmp_path).close()
    assert len(records["out"]) == 1500
    drained = db.stat().st_size
    con = sqlite3.connect(db)
    pragmas = [
        con.execute(f"PRAGMA {p}").fetchone()[0]
        for p in ("page_count", "freelist_count", "auto_vacuum")
    ]
    con.close()
    assert drained < 2 * 1024**2, (full, drained, pragmas)
    wal = tmp_path / "flowfiles.db-wal"
    assert not wal.exists() or wal.stat().st_size < 1024**2
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA auto_vacuum").fetchone()[0] == 2  # incremental
    assert con.execute("SELECT count(*) FROM flowfiles").fetchone()[0] == 0
    con.close()


def test_a_legacy_database_is_converted_and_shrunk(tmp_path: Path) -> None:
    """A database created without auto_vacuum is VACUUM-ed once it is mostly free."""
    from flowengine._repository._durable import SQLiteFlowFileRepository

    db = tmp_path / "flowfiles.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE filler (b BLOB)")
    con.executemany("INSERT INTO filler VALUES (?)", [(b"x" * 100_000,)] * 200)
    con.commit()
    con.execute("DELETE FROM filler")
    con.commit()
    assert con.execute("PRAGMA auto_vacuum").fetchone()[0] == 0
    con.close()
    repo = SQLiteFlowFileRepository(db)
    repo.close()
    assert db.stat().st_size < 1024**2

"""The state directory's manifest, its damage checks and ``flowengine repair``.

``STATE_DIR/manifest.json`` says "this directory holds a FlowFile repository" and carries
a *generation*: every run bumps the generation in ``flowfiles.db`` (the first write of the
run, right after a checkpoint, so it is the first frame of the write-ahead log) and then
in the manifest. At the next start:

- manifest present, ``flowfiles.db`` missing or empty: the repository was lost;
- SQLite cannot read the database (malformed, not a database): it is damaged;
- the database's generation is *older* than the manifest's: the write-ahead log that held
  the last run's commits was lost or garbled;
- no manifest, no database, but content files: content of a repository that is gone.

In each case the run refuses to start with :class:`StateDirectoryError` (CLI exit 6)
instead of continuing with an empty repository whose orphan reclaim would then delete the
content of every queued FlowFile. The user restores the files, or runs
``flowengine repair STATE_DIR``: it salvages every row SQLite can still read into a fresh
database and *moves* (never deletes) the damaged files and unreferenced content into
``STATE_DIR/quarantine/<timestamp>/``.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from ..._errors import StateDirectoryError
from ._flowfiles import _FORMAT, _SCHEMA, write_generation

__all__ = ["check_state", "repair"]

MANIFEST = "manifest.json"
_WHAT_TO_DO = (
    "restore the state directory from a backup, or run `flowengine repair {root}` "
    "(salvages what can be read; damaged files and unreferenced content are moved "
    "to {root}/quarantine/, nothing is deleted)"
)


def _damaged(root: Path, what: str) -> StateDirectoryError:
    return StateDirectoryError(f"{what}; {_WHAT_TO_DO.format(root=root)}")


def read_manifest(root: Path) -> dict[str, Any] | None:
    path = root / MANIFEST
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise _damaged(root, f"{path} cannot be read ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("generation"), int):
        raise _damaged(root, f"{path} is damaged (no generation)")
    return data


def write_manifest(root: Path, generation: int) -> None:
    """Replace the manifest atomically (write, fsync, rename)."""
    path = root / MANIFEST
    tmp = path.with_suffix(".tmp")
    data = {"format": 1, "generation": generation, "written": int(time.time())}
    with open(tmp, "w") as f:
        json.dump(data, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _has_content(content_dir: Path) -> bool:
    if not content_dir.is_dir():
        return False
    for section in content_dir.iterdir():
        if section.is_dir() and any(section.iterdir()):
            return True
    return False


def check_state(root: Path, db: Path, content_dir: Path) -> dict[str, Any] | None:
    """Checks possible before opening the database; returns the manifest (or None)."""
    manifest = read_manifest(root)
    size = db.stat().st_size if db.exists() else -1
    if manifest is not None and size <= 0:
        state = "is missing" if size < 0 else "is empty (0 bytes)"
        raise _damaged(
            root,
            f"the FlowFile repository {db} {state} although {root / MANIFEST} says "
            "this state directory holds data",
        )
    if manifest is None and size <= 0 and _has_content(content_dir):
        raise _damaged(
            root,
            f"{content_dir} holds content but there is no FlowFile repository "
            f"({db} {'is missing' if size < 0 else 'is empty'}); refusing to delete "
            "content the repository cannot prove it wrote",
        )
    return manifest


def database_error(root: Path, db: Path, exc: sqlite3.Error) -> StateDirectoryError:
    return _damaged(root, f"the FlowFile repository {db} is damaged ({exc})")


def check_generation(
    root: Path, db: Path, manifest: dict[str, Any] | None, generation: int
) -> None:
    if manifest is not None and generation < manifest["generation"]:
        raise _damaged(
            root,
            f"the FlowFile repository {db} is older than its state directory "
            f"(generation {generation}, the manifest says {manifest['generation']}): "
            "its write-ahead log (flowfiles.db-wal) was lost or damaged, so committed "
            "FlowFiles are missing",
        )


# -- repair --------------------------------------------------------------------------
def _salvage(con: sqlite3.Connection, table: str) -> tuple[list[tuple[Any, ...]], int]:
    """Rows of ``table`` SQLite can still read (by rowid, skipping damaged pages)."""
    rows: list[tuple[Any, ...]] = []
    bad = 0
    try:
        hi = con.execute(f"SELECT max(rowid) FROM {table}").fetchone()[0]
    except sqlite3.DatabaseError:
        hi = None
    last = -(2**62)
    while True:
        try:
            chunk = con.execute(
                f"SELECT rowid, * FROM {table} WHERE rowid > ? "
                "ORDER BY rowid LIMIT 500",
                (last,),
            ).fetchall()
        except sqlite3.DatabaseError:
            bad += 1
            if hi is None or last >= hi:
                break
            start = max(last, 0)
            for key in range(start + 1, min(start + 500, hi) + 1):  # row by row
                with contextlib.suppress(sqlite3.DatabaseError):
                    one = con.execute(
                        f"SELECT rowid, * FROM {table} WHERE rowid = ?",
                        (key,),
                    ).fetchone()
                    if one is not None:
                        rows.append(one)
            last = min(start + 500, hi)
            continue
        if not chunk:
            break
        rows.extend(chunk)
        last = chunk[-1][0]
    return rows, bad


def repair(root: Path, content_dir: Path | None = None) -> dict[str, Any]:
    """Salvage ``root``'s FlowFile repository; quarantine damaged files and orphans.

    The caller holds the state directory's lock. Returns what was done (for the CLI).
    """
    content_dir = content_dir or root / "content"
    db = root / "flowfiles.db"
    stamp = time.strftime("%Y%m%dT%H%M%S")
    quarantine = root / "quarantine" / stamp
    salvaged: dict[str, list[tuple[Any, ...]]] = {}
    unreadable = 0
    if db.exists() and db.stat().st_size > 0:
        try:
            old = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
            for table in ("queues", "state", "meta", "flowfiles"):
                try:
                    salvaged[table], bad = _salvage(old, table)
                except sqlite3.DatabaseError:
                    salvaged[table], bad = [], 1
                unreadable += bad
            old.close()
        except sqlite3.DatabaseError:
            unreadable += 1
    quarantine.mkdir(parents=True, exist_ok=True)
    moved_db = []
    for suffix in ("", "-wal", "-shm"):
        p = root / f"flowfiles.db{suffix}"
        if p.exists():
            os.replace(p, quarantine / p.name)
            moved_db.append(p.name)
    manifest = read_manifest(root) if (root / MANIFEST).exists() else None
    meta = {r[1]: r[2] for r in salvaged.get("meta", [])}
    generation = max(
        int(meta.get("generation", 0) or 0),
        manifest["generation"] if manifest else 0,
    )
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.executescript(_SCHEMA)
    con.execute("BEGIN")
    queue_ids = set()
    for row in salvaged.get("queues", []):
        con.execute("INSERT INTO queues VALUES (?, ?)", row[1:])
        queue_ids.add(row[1])
    for row in salvaged.get("state", []):
        con.execute("INSERT INTO state VALUES (?, ?)", row[1:])
    referenced: set[str] = set()
    flowfiles = salvaged.get("flowfiles", [])
    for row in flowfiles:
        if row[3] not in queue_ids:  # the queue's name was lost: keep the rows findable
            con.execute(
                "INSERT OR IGNORE INTO queues VALUES (?, ?)",
                (row[3], f"salvaged-queue-{row[3]}"),
            )
            queue_ids.add(row[3])
        con.execute("INSERT INTO flowfiles VALUES (?,?,?,?,?,?,?,?,?,?)", row[1:])
        if row[5] is not None:
            referenced.add(row[5])
    con.execute("INSERT OR REPLACE INTO meta VALUES ('format', ?)", (_FORMAT,))
    write_generation(con, generation)
    con.execute("COMMIT")
    con.close()
    write_manifest(root, generation)
    moved_content = 0
    if content_dir.is_dir():
        for section in sorted(content_dir.iterdir()):
            if not section.is_dir():
                continue
            for f in sorted(section.iterdir()):
                if f"{section.name}/{f.name}" in referenced:
                    continue
                dest = quarantine / "content" / section.name
                dest.mkdir(parents=True, exist_ok=True)
                os.replace(f, dest / f.name)
                moved_content += 1
    return {
        "flowfiles": len(flowfiles),
        "queues": len(queue_ids),
        "state": len(salvaged.get("state", [])),
        "unreadable_ranges": unreadable,
        "quarantined_database_files": moved_db,
        "quarantined_content_files": moved_content,
        "quarantine": str(quarantine),
    }

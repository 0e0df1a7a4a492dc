"""``flowengine provenance STATE_DIR --uuid U | --component C | --lineage U [--json]``.

Reads the provenance segments of a durable run's state directory (read-only: it works
while the run is going, on the segments written so far) and prints the matching events
as a table, or as JSON on stdout (data only; nothing else is printed there).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .._api._provenance import ProvenanceEvent

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="flowengine provenance",
        description="Query the provenance events of a durable run.",
    )
    ap.add_argument("state_dir", metavar="STATE_DIR", help="the run's --state-dir")
    which = ap.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--uuid", help="events of one FlowFile (a unique prefix of its uuid will do)"
    )
    which.add_argument(
        "--component", help="events reported by one processor/connection id"
    )
    which.add_argument(
        "--lineage",
        metavar="UUID",
        help="events of the FlowFile, its ancestors and descendants (a unique prefix "
        "of its uuid will do)",
    )
    ap.add_argument(
        "--type", dest="event_type", help="only this event type (e.g. DROP)"
    )
    ap.add_argument("--limit", type=int, default=None, help="at most this many events")
    ap.add_argument(
        "--json", action="store_true", help="JSON on stdout instead of a table"
    )
    return ap


def _as_dict(e: ProvenanceEvent) -> dict[str, Any]:
    return {
        "event_id": e.event_id,
        "event_type": str(e.event_type),
        "timestamp_ms": e.timestamp_ms,
        "flowfile_uuid": e.flowfile_uuid,
        "component_id": e.component_id,
        "component_type": e.component_type,
        "relationship": e.relationship,
        "details": e.details,
        "transit_uri": e.transit_uri,
        "size": e.size,
        "parent_uuids": list(e.parent_uuids),
        "child_uuids": list(e.child_uuids),
        "lineage_start_date": e.lineage_start_date,
        "entry_date": e.entry_date,
        "content_claim": e.content_claim,
        "attributes": dict(e.attributes),
    }


def _table(events: list[ProvenanceEvent]) -> str:
    head = ("ID", "TIME (UTC)", "TYPE", "COMPONENT", "FLOWFILE", "DETAILS")
    rows = [head]
    for e in events:
        when = datetime.fromtimestamp(e.timestamp_ms / 1000, UTC).strftime(
            "%Y-%m-%d %H:%M:%S.%f"
        )[:-3]
        extra = []
        if e.relationship:
            extra.append(f"-> {e.relationship}")
        if e.parent_uuids:
            extra.append(f"parents {','.join(e.parent_uuids)}")
        if e.child_uuids:
            extra.append(f"children {','.join(e.child_uuids)}")
        if e.transit_uri:
            extra.append(e.transit_uri)
        if e.details:
            extra.append(e.details)
        rows.append(
            (
                str(e.event_id),
                when,
                str(e.event_type),
                e.component_id,
                e.flowfile_uuid,
                "; ".join(extra),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(head) - 1)]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(r[:-1], widths, strict=True))
        + "  "
        + r[-1]
        for r in rows
    ]
    return "\n".join(line.rstrip() for line in lines)


_UUID_LENGTH = 36
_SHOWN_CANDIDATES = 10


def _resolve_uuid(repo: Any, given: str) -> tuple[str, str | None]:
    """The full uuid a prefix stands for, or an error naming the candidates.

    Users see uuid prefixes (filenames carry the first 8 characters, the table shows
    them whole but long): any prefix that only one FlowFile's uuid starts with will do.
    A prefix no uuid starts with is returned as is (the query then finds no events).
    """
    prefix = given.strip().lower()
    if len(prefix) >= _UUID_LENGTH:
        return prefix, None
    found: set[str] = set()
    for e in repo.events():
        for u in (e.flowfile_uuid, *e.parent_uuids, *e.child_uuids):
            if u.startswith(prefix):
                found.add(u)
    if len(found) <= 1:
        return (found.pop() if found else prefix), None
    shown = sorted(found)[:_SHOWN_CANDIDATES]
    more = f" and {len(found) - len(shown)} more" if len(found) > len(shown) else ""
    return prefix, (
        f"uuid prefix {given!r} is ambiguous: {len(found)} FlowFiles match "
        f"({', '.join(shown)}{more}); give more characters"
    )


def main(argv: list[str]) -> int:
    """Run the subcommand; exit 0 found, 1 no events matched, 2 usage/no repository."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse: --help is 0, usage errors 2
        return int(exc.code or 0)
    directory = Path(args.state_dir) / "provenance"
    if not directory.is_dir():
        print(
            f"flowengine provenance: no provenance repository in {args.state_dir}",
            file=sys.stderr,
        )
        return 2
    from .._repository._durable._provenance import ParquetProvenanceRepository

    repo = ParquetProvenanceRepository(directory, read_only=True)
    for attr in ("uuid", "lineage"):
        given = getattr(args, attr)
        if given:
            full, error = _resolve_uuid(repo, given)
            if error:
                print(f"flowengine provenance: {error}", file=sys.stderr)
                return 2
            setattr(args, attr, full)
    if args.lineage:
        events = repo.lineage(args.lineage)
        if args.event_type:
            events = [e for e in events if e.event_type == args.event_type]
    else:
        events = repo.query(
            uuid=args.uuid, component=args.component, event_type=args.event_type
        )
    if args.limit is not None:
        events = events[: args.limit]
    if args.json:
        json.dump([_as_dict(e) for e in events], sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif events:
        print(_table(events))
    else:
        print("no matching events", file=sys.stderr)
    return 0 if events else 1

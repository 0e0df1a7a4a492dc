"""The terminal view of a running flow (rich): a live table and the final summary.

Both read only :class:`~flowengine._status.FlowStatus` snapshots, the same view the
embedding result and any future HTTP API read.
"""

from __future__ import annotations

from typing import IO, Any

import anyio

from ._status import FlowStatus
from ._units import format_size

__all__ = ["live_status", "print_summary", "status_tables"]


def status_tables(status: FlowStatus, failures: list[Any] | None = None) -> Any:
    """Processor and connection tables (a rich renderable)."""
    from rich.console import Group
    from rich.table import Table

    procs = Table(title=f"flow {status.flow}", title_justify="left", expand=False)
    for col in (
        "processor",
        "type",
        "state",
        "in",
        "out",
        "bytes in",
        "bytes out",
        "tasks",
        "errors",
    ):
        procs.add_column(
            col,
            justify="right" if col not in ("processor", "type", "state") else "left",
        )
    for p in status.processors:
        if p.type.startswith("_") or p.name.startswith("_"):
            continue
        procs.add_row(
            p.id,
            p.type,
            p.state,
            f"{p.flowfiles_in:,}",
            f"{p.flowfiles_out:,}",
            format_size(p.bytes_in),
            format_size(p.bytes_out),
            f"{p.triggers:,}",
            f"[red]{p.errors}[/red]" if p.errors else "0",
        )
    conns = Table(title="connections", title_justify="left")
    for col in ("connection", "queued", "size", "in flight", "fill"):
        conns.add_column(col, justify="left" if col == "connection" else "right")
    for c in status.connections:
        fill = c.fill_ratio
        color = "green" if fill <= 0.6 else "yellow" if fill <= 0.85 else "red"
        conns.add_row(
            f"{c.source} -({','.join(c.relationships)})-> {c.destination}",
            f"{c.queued_count:,}",
            format_size(c.queued_bytes),
            f"{c.in_flight_count:,}",
            f"[{color}]{fill:.0%}[/{color}]",
        )
    parts: list[Any] = [procs, conns]
    if failures:
        fails = Table(title="failures", title_justify="left")
        for col in ("processor", "relationship", "count", "last error"):
            fails.add_column(col)
        for f in failures:
            fails.add_row(
                f.processor, f.relationship, f"{f.count:,}", f.last_error or ""
            )
        parts.append(fails)
    poison = [(p.id, u, r) for p in status.processors for u, r in p.poison.items()]
    if poison:
        table = Table(
            title="poison FlowFiles (kept failing alone)", title_justify="left"
        )
        for col in ("processor", "uuid", "reason"):
            table.add_column(col)
        for row in poison:
            table.add_row(*row)
        parts.append(table)
    return Group(*parts)


async def live_status(holder: dict[str, Any], refresh: float = 0.5) -> None:
    """Show a live table of the runtime in ``holder['runtime']`` until cancelled."""
    import sys

    from rich.console import Console
    from rich.live import Live

    console = Console(file=sys.stderr)
    while "runtime" not in holder:  # noqa: ASYNC110 - waits for the runtime to be built; runs once
        await anyio.sleep(0.05)
    runtime = holder["runtime"]
    with Live(
        status_tables(runtime.status()),
        console=console,
        refresh_per_second=4,
        redirect_stderr=True,
        transient=True,
    ) as live:
        while True:
            await anyio.sleep(refresh)
            live.update(status_tables(runtime.status()))


def print_summary(status: FlowStatus, failures: list[Any], file: IO[str]) -> None:
    """The final summary table of a run."""
    from rich.console import Console

    Console(file=file, width=120 if not file.isatty() else None).print(
        status_tables(status, failures)
    )

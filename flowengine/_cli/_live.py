"""The terminal view of a running flow (rich): a live table and the final summary.

Both read only :class:`~flowengine._status.FlowStatus` snapshots, the same view the
embedding result and any future HTTP API read.
"""

from __future__ import annotations

import time
from typing import IO, Any

import anyio

from .._status import BackgroundTaskStatus, FlowStatus
from .._units import format_size

__all__ = [
    "live_status",
    "print_summary",
    "status_fields",
    "status_lines",
    "status_tables",
]


#: processor-table columns a narrow terminal drops first (the names and counts stay)
_DROP_ORDER = ("bytes in", "bytes out", "tasks", "type", "state")
_PROC_COLUMNS = (
    "processor",
    "type",
    "state",
    "in",
    "out",
    "bytes in",
    "bytes out",
    "tasks",
    "errors",
)
_CONN_COLUMNS = ("connection", "queued", "size", "in flight", "fill")


def _fit(
    columns: tuple[str, ...],
    rows: list[list[str]],
    width: int | None,
    drop: tuple[str, ...],
) -> tuple[str, ...]:
    """The columns to show within ``width``: drop the least useful ones first rather
    than truncating names to ``proce…`` (rich's default when a table is too wide)."""
    keep = list(columns)

    def needed() -> int:
        idx = [columns.index(c) for c in keep]
        widths = [max([len(columns[i])] + [len(r[i]) for r in rows]) for i in idx]
        return sum(widths) + 3 * len(widths) + 1  # padding and borders

    for c in drop:
        if width is None or needed() <= width:
            break
        keep.remove(c)
    return tuple(keep)


def _middle(text: str, room: int) -> str:
    """``text`` shortened in the middle, keeping both ends (a connection's source and
    destination) readable."""
    if room < 5 or len(text) <= room:
        return text
    head = (room - 1) // 2
    return text[:head] + "…" + text[len(text) - (room - 1 - head) :]


def status_tables(
    status: FlowStatus, failures: list[Any] | None = None, width: int | None = None
) -> Any:
    """Processor and connection tables (a rich renderable), fitted to ``width``
    columns when given (the terminal's): less useful columns go before names shrink."""
    from rich.console import Group
    from rich.table import Table

    rows: list[list[str]] = []
    errors: list[int] = []
    for p in status.processors:
        if p.type.startswith("_") or p.name.startswith("_"):
            continue
        rows.append(
            [
                p.id,
                p.type,
                p.state,
                f"{p.flowfiles_in:,}",
                f"{p.flowfiles_out:,}",
                format_size(p.bytes_in),
                format_size(p.bytes_out),
                f"{p.triggers:,}",
                str(p.errors),
            ]
        )
        errors.append(p.errors)
    shown = _fit(_PROC_COLUMNS, rows, width, _DROP_ORDER)
    procs = Table(title=f"flow {status.flow}", title_justify="left", expand=False)
    for col in shown:
        left = col in ("processor", "type", "state")
        procs.add_column(
            col,
            justify="left" if left else "right",
            no_wrap=True,
            overflow="fold" if col == "processor" else "ellipsis",
        )
    idx = [_PROC_COLUMNS.index(c) for c in shown]
    for row, err in zip(rows, errors, strict=True):
        cells = [row[i] for i in idx]
        if err:
            cells[-1] = f"[red]{err}[/red]"
        procs.add_row(*cells)
    conn_rows = []
    for c in status.connections:
        fill = c.fill_ratio
        color = "green" if fill <= 0.6 else "yellow" if fill <= 0.85 else "red"
        conn_rows.append(
            [
                f"{c.source} -({','.join(c.relationships)})-> {c.destination}",
                f"{c.queued_count:,}",
                format_size(c.queued_bytes),
                f"{c.in_flight_count:,}",
                f"[{color}]{fill:.0%}[/{color}]",
            ]
        )
    if width is not None and conn_rows:
        from rich.text import Text

        others = sum(
            max(
                len(_CONN_COLUMNS[i]),
                *(Text.from_markup(r[i]).cell_len for r in conn_rows),
            )
            + 3
            for i in range(1, len(_CONN_COLUMNS))
        )
        room = width - others - 4
        for r in conn_rows:
            r[0] = _middle(r[0], room)
    conns = Table(title="connections", title_justify="left")
    for col in _CONN_COLUMNS:
        conns.add_column(
            col, justify="left" if col == "connection" else "right", no_wrap=True
        )
    for r in conn_rows:
        conns.add_row(*r)
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
        for heading in ("processor", "uuid", "reason"):
            table.add_column(heading)
        for poisoned in poison:
            table.add_row(*poisoned)
        parts.append(table)
    troubled = [t for t in status.background if t.failures]
    if troubled:
        parts.append(_background_table(troubled))
    return Group(*parts)


def _clock_time(ms: int | None) -> str:
    return time.strftime("%H:%M:%S", time.localtime(ms / 1000)) if ms else ""


def background_line(t: BackgroundTaskStatus) -> str:
    """One background thread's trouble in words (failing now, or recovered)."""
    if t.failing:
        return (
            f"{t.name} failing since {_clock_time(t.last_error_ms)}: {t.last_error} "
            f"(retrying; {t.failures} failed attempt(s))"
        )
    return (
        f"{t.name} recovered at {_clock_time(t.recovered_ms)} "
        f"after {t.failures} failed attempt(s)"
    )


def _background_table(tasks: list[BackgroundTaskStatus]) -> Any:
    """The background threads that failed during the run: failing now (with the
    error and since when) or recovered (and when)."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title="background threads", title_justify="left")
    for col in ("thread", "state", "failures", "when", "last error"):
        table.add_column(col)
    for t in tasks:
        state = Text(t.state, style="red" if t.failing else "green")
        when = t.last_error_ms if t.failing else t.recovered_ms
        table.add_row(
            t.name,
            state if t.failing else Text("recovered", style="green"),
            f"{t.failures:,}",
            _clock_time(when),
            Text(t.last_error or ""),
        )
    return table


def drain_flush_lines(status: FlowStatus) -> list[str]:
    """``merge_a: 1 bin of 2 records flushed below Minimum Number of Records 500 at
    drain``: what processors flushed below their minimums because the flow drained."""
    return [f"{pid}: {flush}" for pid, flush in status.drain_flushes]


async def live_status(holder: dict[str, Any], refresh: float = 0.5) -> None:
    """Show a live table of the runtime in ``holder['runtime']`` until cancelled."""
    import sys

    from rich.console import Console
    from rich.live import Live

    console = Console(file=sys.stderr)
    while "runtime" not in holder:  # noqa: ASYNC110 - waits for the runtime to be built; runs once
        await anyio.sleep(0.05)
    runtime = holder["runtime"]

    def tables() -> Any:
        return status_tables(runtime.status(), width=console.width)  # resizes follow

    with Live(
        tables(),
        console=console,
        refresh_per_second=4,
        redirect_stderr=True,
        transient=True,
    ) as live:
        while True:
            await anyio.sleep(refresh)
            live.update(tables())


def status_fields(status: FlowStatus) -> dict[str, Any]:
    """One status line's fields: each processor's in/out, queued totals, errors.

    For runs nobody watches on a terminal (services, CI): a log line every N seconds
    says the flow is alive and moving, with no per-FlowFile logging.
    """
    procs = [
        p
        for p in status.processors
        if not (p.type.startswith("_") or p.name.startswith("_"))
        and p.type not in ("input_port", "output_port", "funnel")
    ]
    return {
        "flow": status.flow,
        "processors": " ".join(
            f"{p.id}={p.flowfiles_in}/{p.flowfiles_out}" for p in procs
        ),
        "queued": sum(c.queued_count for c in status.connections),
        "queued_bytes": sum(c.queued_bytes for c in status.connections),
        "in_flight": sum(c.in_flight_count for c in status.connections),
        "errors": sum(p.errors for p in procs),
        **(
            {"background_errors": {t.name: t.last_error for t in failing}}
            if (failing := [t for t in status.background if t.failing])
            else {}
        ),
    }


async def status_lines(holder: dict[str, Any], log: Any, interval: float) -> None:
    """Log ``flow_status`` (see :func:`status_fields`) every ``interval`` seconds
    for the runtime in ``holder['runtime']`` until cancelled."""
    while "runtime" not in holder:  # noqa: ASYNC110 - waits for the runtime to be built; runs once
        await anyio.sleep(0.05)
    runtime = holder["runtime"]
    while True:
        await anyio.sleep(interval)
        log.info("flow_status", **status_fields(runtime.status()))


def print_summary(status: FlowStatus, failures: list[Any], file: IO[str]) -> None:
    """The final summary table of a run."""
    from rich.console import Console

    console = Console(file=file, width=120 if not file.isatty() else None)
    console.print(status_tables(status, failures, width=console.width))
    flushed = drain_flush_lines(status)
    if flushed:
        console.print("flushed at drain (below minimums):", markup=False)
        for line in flushed:
            console.print(f"  {line}", markup=False, highlight=False, soft_wrap=True)

"""Connections: the bounded, prioritized queues between components (NiFi §4).

A connection owns every FlowFile queued in it and every FlowFile polled from it but not yet
acknowledged (in flight in a session). Both count towards back pressure, as in NiFi, so a
slow consumer holding a big batch still holds back its producer.

Thread-safety: sessions on worker threads and the event loop call in concurrently; one lock
per connection guards its state. Listeners (scheduler wake-ups) run outside the lock.

Swapping (NiFi §4.5): with a :class:`SwapStore` (the durable FlowFile repository gives one),
a connection keeps at most ``swap.threshold`` FlowFiles active in memory. Later arrivals go to
a swap queue; every full batch of it is handed to the store, which already holds those
FlowFiles durably, so only a small token stays in memory. When the active queue runs dry the
oldest batch is swapped back in (FIFO across batches), then the swap queue. Penalized
FlowFiles always stay in memory. Prioritizers order only what is in memory, as in NiFi.
"""

from __future__ import annotations

import heapq
import itertools
import math
import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Generic, Protocol, TypeVar

from .._api._flowfile import FlowFile
from .._clock import Clock
from .._flow_format import BACK_PRESSURE
from .._status import ConnectionStatus
from ._prioritizers import Prioritizer, resolve_prioritizer

__all__ = [
    "DEFAULT_BACK_PRESSURE_OBJECTS",
    "DEFAULT_BACK_PRESSURE_SIZE",
    "Connection",
    "Endpoint",
    "SwapStore",
]

#: declared with the flow format (``back_pressure`` of a connection)
DEFAULT_BACK_PRESSURE_OBJECTS: int = BACK_PRESSURE["objects"].default
DEFAULT_BACK_PRESSURE_SIZE: int = BACK_PRESSURE["size"].default


class SwapStore(Protocol):
    """Where a connection parks FlowFiles beyond its swap threshold.

    The FlowFiles handed to :meth:`swap_out` are already durable in the store's
    repository (they were committed before being queued); the store only notes which
    ones form the batch and returns a token. Called under the connection's lock.
    """

    #: FlowFiles kept active in memory before new arrivals go to the swap queue
    threshold: int
    #: FlowFiles per swapped-out batch
    batch_size: int

    def swap_out(self, flowfiles: list[FlowFile]) -> Any:
        """Forget these queued FlowFiles (they stay in the repository); a batch token."""
        ...

    def swap_in(self, token: Any) -> list[FlowFile]:
        """The FlowFiles of a batch, in queue order."""
        ...

    def restored(self) -> list[tuple[Any, int, int]]:
        """Batches (token, count, bytes) this queue held at start, oldest first."""
        ...


class Endpoint(Protocol):
    """What a connection needs of the components at its two ends: a name for its
    status, and a way to wake one up (the destination when FlowFiles arrive, the source
    when back pressure clears). The engine's nodes are endpoints; a connection never
    needs more of them, so it does not depend on the scheduler."""

    @property
    def name(self) -> str: ...

    def notify(self) -> None:
        """Something changed that may make this component triggerable; safe from any
        thread."""
        ...


#: the kind of component at a connection's ends (the engine's ``Node``)
E = TypeVar("E", bound=Endpoint)


class Connection(Generic[E]):
    """A queue from one component's relationships to another component.

    Generic in its endpoints: the engine's connections join nodes
    (``Connection[Node]``), whose scheduling state the scheduler reads through
    ``source`` and ``destination``; the connection itself only names and wakes them.
    """

    def __init__(
        self,
        id: str,
        source: E,
        relationships: Sequence[str],
        destination: E,
        *,
        clock: Clock,
        back_pressure_objects: int = DEFAULT_BACK_PRESSURE_OBJECTS,
        back_pressure_size: int = DEFAULT_BACK_PRESSURE_SIZE,
        expiration: float = 0.0,
        prioritizers: Iterable[str] = (),
        name: str | None = None,
        swap: SwapStore | None = None,
    ) -> None:
        self.id = id
        self.name = name or id
        self.source = source
        self.destination = destination
        self.relationships = tuple(relationships)
        self.back_pressure_objects = back_pressure_objects
        self.back_pressure_size = back_pressure_size
        self.expiration = expiration
        self.prioritizer_names: tuple[str, ...] = ()
        self._keys: tuple[Prioritizer, ...] = ()
        names = []
        keys = []
        for p in prioritizers:
            short, key = resolve_prioritizer(p)
            names.append(short)
            keys.append(key)
        self.prioritizer_names = tuple(names)
        # FirstInFirstOut alone is plain queue order: keep the deque fast path.
        self._keys = tuple(keys) if names not in ([], ["FirstInFirstOut"]) else ()
        self._clock = clock
        self._lock = threading.Lock()
        self._fifo: deque[FlowFile] = deque()
        self._heap: list[tuple[Any, int, FlowFile]] = []
        self._penalized: list[tuple[float, int, FlowFile]] = []
        self._seq = itertools.count()
        self._count = 0
        self._bytes = 0
        self._inflight_count = 0
        self._inflight_bytes = 0
        self._in_count = 0
        self._in_bytes = 0
        self._out_count = 0
        self._out_bytes = 0
        self._expired = 0
        self._swap = swap
        self._swap_queue: list[FlowFile] = []
        self._swap_batches: deque[tuple[Any, int, int]] = deque()
        self._swapped = 0
        if swap is not None:
            for token, count, size in swap.restored():
                self._swap_batches.append((token, count, size))
                self._swapped += count
                self._count += count
                self._bytes += size
        #: called with the expired FlowFiles (outside the lock) to drop them properly
        self.on_expired: Callable[[Connection[E], list[FlowFile]], None] | None = None

    @property
    def is_self_loop(self) -> bool:
        return self.source is self.destination

    def __repr__(self) -> str:
        return f"Connection({self.id!r})"

    # -- state queries (cheap, read without the lock: ints are atomic to read) -----------
    def is_full(self) -> bool:
        """True when an enabled threshold is reached (queued + in flight)."""
        bo = self.back_pressure_objects
        if bo and self._count + self._inflight_count >= bo:
            return True
        bs = self.back_pressure_size
        return bool(bs and self._bytes + self._inflight_bytes >= bs)

    def is_empty(self) -> bool:
        """Nothing queued and nothing in flight."""
        return self._count == 0 and self._inflight_count == 0

    @property
    def queued_count(self) -> int:
        return self._count

    @property
    def queued_bytes(self) -> int:
        return self._bytes

    def next_available(self) -> float | None:
        """0.0 if a FlowFile can be polled now; the monotonic time when the first
        penalized one becomes available; or None when the queue is empty."""
        if self._count == 0:
            return None
        if self._count > len(self._penalized):
            return 0.0
        with self._lock:
            if not self._penalized:
                return 0.0 if self._count else None
            due = self._penalized[0][0]
        return 0.0 if due <= self._clock.monotonic() else due

    # -- queue operations ---------------------------------------------------------------
    def offer(self, flowfiles: Sequence[FlowFile]) -> None:
        """Enqueue FlowFiles (at session commit) and wake the destination.

        Each one is stamped (queue date and index, framework-owned: the object is owned
        by this queue now) and placed by ``_place``; with swapping on, an unpenalized
        one goes to the swap queue instead while the active queue is at its threshold
        or older ones wait swapped (NiFi's order), and full batches are swapped out."""
        if not flowfiles:
            return
        swap = self._swap
        now_ms = self._clock.time_ms()
        now = self._clock.monotonic()
        size = 0
        with self._lock:
            seq = self._seq
            for ff in flowfiles:
                ff.last_queue_date = now_ms
                ff.queue_date_index = next(seq)
                size += ff.size
            if swap is None:
                self._place(flowfiles, now)
            else:
                for ff in flowfiles:
                    if ff.penalty_until <= now and self._swapping(swap):
                        self._swap_queue.append(ff)
                    else:
                        self._place((ff,), now)
            n = len(flowfiles)
            self._count += n
            self._bytes += size
            self._in_count += n
            self._in_bytes += size
            if swap is not None:
                self._swap_out_full_batches(swap)
        self.destination.notify()

    def _place(
        self,
        flowfiles: Iterable[FlowFile],
        now: float,
        front: list[FlowFile] | None = None,
    ) -> None:
        """The one placement rule, under the lock: a FlowFile penalized past ``now``
        waits in the penalty heap; otherwise it is active, in the priority heap when the
        connection has prioritizers, else at the FIFO's tail, or appended to ``front``
        when the caller puts those back at the FIFO's head (a requeue, a released
        penalty: they were queued before what waits now). ``now=math.inf`` activates.
        It takes a batch so the hot path pays one call per commit, not per FlowFile."""
        penalized = self._penalized
        heap = self._heap if self._keys else None
        key = self._key
        fifo_add = self._fifo.append if front is None else front.append
        push = heapq.heappush
        for ff in flowfiles:
            if ff.penalty_until > now:
                push(penalized, (ff.penalty_until, ff.queue_date_index, ff))
            elif heap is not None:
                push(heap, (key(ff), ff.queue_date_index, ff))
            else:
                fifo_add(ff)

    def _key(self, ff: FlowFile) -> tuple[Any, ...]:
        return tuple(k(ff) for k in self._keys)

    # -- swapping -----------------------------------------------------------------------
    def _active_len(self) -> int:
        return len(self._heap) if self._keys else len(self._fifo)

    def _swapping(self, swap: SwapStore) -> bool:
        """New arrivals go to the swap queue: older ones wait there or swapped out, or
        the active queue is at the threshold."""
        return bool(
            self._swap_queue
            or self._swap_batches
            or self._active_len() >= swap.threshold
        )

    def _swap_out_full_batches(self, swap: SwapStore) -> None:
        """Write every full batch of the swap queue to the store. Under the lock."""
        pending = self._swap_queue
        batch = swap.batch_size
        while len(pending) >= batch:
            out, self._swap_queue = pending[:batch], pending[batch:]
            pending = self._swap_queue
            bsize = 0
            for ff in out:
                bsize += ff.size
            self._swap_batches.append((swap.swap_out(out), len(out), bsize))
            self._swapped += len(out)

    def _swap_in(self) -> None:
        """Refill an empty active queue: oldest swapped batch first, then the swap
        queue (NiFi's order). Called under the lock."""
        swap = self._swap
        if swap is None or self._active_len():
            return
        if self._swap_batches:
            token, count, size = self._swap_batches.popleft()
            ffs = swap.swap_in(token)
            self._swapped -= count
            got = 0
            seq = self._seq
            for ff in ffs:
                got += ff.size
                # A fresh index from this queue's counter: heap entries tie-break on it and
                # must never compare equal (the store's own keys are another sequence).
                ff.queue_date_index = next(seq)
            self._place(ffs, math.inf)
            # The store is the truth: adjust if the batch changed while swapped out.
            self._count += len(ffs) - count
            self._bytes += got - size
        elif self._swap_queue:
            take = self._swap_queue[: swap.threshold]
            del self._swap_queue[: swap.threshold]
            self._place(take, math.inf)

    def _release_due_penalties(self, now: float) -> None:
        pen = self._penalized
        if not pen or pen[0][0] > now:
            return
        front: list[FlowFile] = []
        due = []
        while pen and pen[0][0] <= now:
            due.append(heapq.heappop(pen)[2])
        self._place(due, math.inf, front)
        # They were queued before what is waiting now: they go first, in order.
        self._fifo.extendleft(reversed(front))

    def poll(self, max_count: int = 1) -> list[FlowFile]:
        """Take up to ``max_count`` available FlowFiles; they are in flight until
        acknowledged or requeued. Expired FlowFiles met on the way are dropped."""
        if self._count == 0 or max_count <= 0:
            return []
        expired: list[FlowFile] = []
        with self._lock:
            self._release_due_penalties(self._clock.monotonic())
            if self._swap is not None:
                self._swap_in()
            out: list[FlowFile]
            if self._keys:
                heap = self._heap
                k = min(max_count, len(heap))
                out = [heapq.heappop(heap)[2] for _ in range(k)]
            else:
                fifo = self._fifo
                k = min(max_count, len(fifo))
                if k == len(fifo):
                    out = list(fifo)
                    fifo.clear()
                else:
                    pop = fifo.popleft
                    out = [pop() for _ in range(k)]
            if self.expiration > 0 and out:
                limit = self._clock.time_ms() - int(self.expiration * 1000)
                kept = [ff for ff in out if ff.entry_date >= limit]
                if len(kept) != len(out):
                    expired = [ff for ff in out if ff.entry_date < limit]
                    out = kept
            size = 0
            for ff in out:
                size += ff.size
            esize = 0
            for ff in expired:
                esize += ff.size
            self._count -= len(out) + len(expired)
            self._bytes -= size + esize
            self._inflight_count += len(out)
            self._inflight_bytes += size
            self._expired += len(expired)
        if expired:
            self._handle_expired(expired)
        return out

    def _handle_expired(self, expired: list[FlowFile]) -> None:
        if self.on_expired is not None:
            self.on_expired(self, expired)
        self.source.notify()

    def sweep_expired(self) -> int:
        """Drop every expired FlowFile now (the periodic sweep; NiFi does it every 30 s)."""
        if self.expiration <= 0 or self._count == 0:
            return 0
        limit = self._clock.time_ms() - int(self.expiration * 1000)
        with self._lock:
            expired = [ff for ff in self._iter_queued() if ff.entry_date < limit]
            if not expired:
                return 0
            gone = {ff.id for ff in expired}
            self._fifo = deque(ff for ff in self._fifo if ff.id not in gone)
            self._swap_queue = [ff for ff in self._swap_queue if ff.id not in gone]
            self._heap = [e for e in self._heap if e[2].id not in gone]
            heapq.heapify(self._heap)
            self._penalized = [e for e in self._penalized if e[2].id not in gone]
            heapq.heapify(self._penalized)
            self._count -= len(expired)
            self._bytes -= sum(ff.size for ff in expired)
            self._expired += len(expired)
        self._handle_expired(expired)
        return len(expired)

    def _iter_queued(self) -> Iterable[FlowFile]:
        yield from self._fifo
        yield from self._swap_queue
        for e in self._heap:
            yield e[2]
        for p in self._penalized:
            yield p[2]

    def drain(self) -> list[FlowFile]:
        """Take every queued FlowFile regardless of penalties (test harness, tooling)."""
        with self._lock:
            out = list(self._iter_queued())
            self._fifo.clear()
            self._heap = []
            self._penalized = []
            size = sum(ff.size for ff in out)
            self._count -= len(out)
            self._bytes -= size
            self._out_count += len(out)
            self._out_bytes += size
        out.sort(key=lambda f: f.queue_date_index)
        if out:
            self.source.notify()
        return out

    def acknowledge(self, count: int, size: int) -> None:
        """In-flight FlowFiles left this queue for good (their session committed)."""
        with self._lock:
            was_full = self.is_full()
            self._inflight_count -= count
            self._inflight_bytes -= size
            self._out_count += count
            self._out_bytes += size
        if was_full or self.back_pressure_objects:
            self.source.notify()

    def requeue(self, flowfiles: Sequence[FlowFile]) -> None:
        """In-flight FlowFiles come back (their session rolled back), keeping their order."""
        if not flowfiles:
            return
        now = self._clock.monotonic()
        size = 0
        with self._lock:
            front: list[FlowFile] = []
            for ff in flowfiles:
                size += ff.size
            self._place(flowfiles, now, front)
            self._fifo.extendleft(reversed(front))
            n = len(flowfiles)
            self._inflight_count -= n
            self._inflight_bytes -= size
            self._count += n
            self._bytes += size
        self.destination.notify()

    def statistics(self) -> ConnectionStatus:
        """A frozen snapshot of counts, bytes and thresholds."""
        with self._lock:
            return ConnectionStatus(
                id=self.id,
                name=self.name,
                source=self.source.name,
                destination=self.destination.name,
                relationships=self.relationships,
                queued_count=self._count,
                queued_bytes=self._bytes,
                in_flight_count=self._inflight_count,
                penalized_count=len(self._penalized),
                back_pressure_objects=self.back_pressure_objects,
                back_pressure_bytes=self.back_pressure_size,
                flowfiles_in=self._in_count,
                bytes_in=self._in_bytes,
                flowfiles_out=self._out_count,
                bytes_out=self._out_bytes,
                expired=self._expired,
                swapped_count=self._swapped,
            )

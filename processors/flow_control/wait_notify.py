"""Wait and Notify: FlowFiles wait for a release signal that others post, on an atomic
map cache (NiFi's WaitNotifyProtocol: one JSON signal per Release Signal Identifier,
updated by compare-and-replace so concurrent notifiers never lose a count)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from flowengine.controller_services.cache import (
    CacheEntry,
    CacheUnavailableError,
    DistributedMapCacheClient,
)

from flowengine import (
    AllowableValue,
    ExpressionLanguageScope,
    FlowFile,
    InputRequirement,
    ProcessContext,
    Processor,
    ProcessSession,
    PropertyDescriptor,
    Relationship,
)
from flowengine import validators as v

__all__ = ["Notify", "Wait"]

FLOWFILE = ExpressionLanguageScope.FLOWFILE_ATTRIBUTES
DEFAULT_COUNTER = "default"
#: attempts at a compare-and-replace before the FlowFiles are retried in a later trigger
REPLACE_ATTEMPTS = 20


@dataclass
class Signal:
    """A release signal as stored in the cache."""

    counts: dict[str, int] = field(default_factory=dict)
    attributes: dict[str, str] = field(default_factory=dict)
    releasable: int = 0

    @classmethod
    def parse(cls, text: str) -> Signal:
        data = json.loads(text)
        return cls(
            {str(k): int(n) for k, n in data.get("counts", {}).items()},
            {str(k): str(a) for k, a in data.get("attributes", {}).items()},
            int(data.get("releasableCount", 0)),
        )

    def dump(self) -> str:
        return json.dumps(
            {
                "counts": self.counts,
                "attributes": self.attributes,
                "releasableCount": self.releasable,
            },
            separators=(",", ":"),
        )

    def total(self) -> int:
        return sum(self.counts.values())


def _cache_property() -> PropertyDescriptor:
    return PropertyDescriptor(
        "distributed_cache_service",
        "The atomic map cache holding release signals (shared with the other side).",
        display_name="Distributed Cache Service",
        required=True,
        service=DistributedMapCacheClient,
    )


def _signal_id_property(what: str) -> PropertyDescriptor:
    return PropertyDescriptor(
        "release_signal_identifier",
        what,
        display_name="Release Signal Identifier",
        required=True,
        expression_language=FLOWFILE,
    )


def _outage(context: ProcessContext, session: ProcessSession, exc: Exception) -> None:
    session.rollback()
    context.bulletin("error", f"the cache is unavailable, will retry: {exc}")
    context.yield_()


class Notify(Processor):
    """Adds Signal Counter Delta to the Signal Counter Name counter of the FlowFile's
    release signal (and caches the attributes matching Attribute Cache Regular
    Expression in it), so Wait processors can release their FlowFiles.

    Up to Signal Buffer Count FlowFiles are taken per trigger and their deltas summed per
    signal: one compare-and-replace per signal. A blank identifier or a delta that is not
    an integer goes to ``failure``; an unavailable cache: rollback, yield, bulletin.
    """

    tags = ("map", "cache", "notify", "distributed", "signal", "release")
    input_requirement = InputRequirement.REQUIRED
    run_inline = True

    RELEASE_SIGNAL_ID = _signal_id_property("The signal to notify.")
    SIGNAL_COUNTER_NAME = PropertyDescriptor(
        "signal_counter_name",
        "The counter of the signal to add to.",
        display_name="Signal Counter Name",
        default=DEFAULT_COUNTER,
        required=True,
        expression_language=FLOWFILE,
    )
    SIGNAL_COUNTER_DELTA = PropertyDescriptor(
        "signal_counter_delta",
        "What to add to the counter (an integer; `0` only caches attributes).",
        display_name="Signal Counter Delta",
        default="1",
        required=True,
        expression_language=FLOWFILE,
    )
    SIGNAL_BUFFER_COUNT = PropertyDescriptor(
        "signal_buffer_count",
        "How many FlowFiles to notify for in one cache update.",
        display_name="Signal Buffer Count",
        default="1",
        required=True,
        validators=(v.POSITIVE_INTEGER,),
    )
    ATTRIBUTE_CACHE_REGEX = PropertyDescriptor(
        "attribute_cache_regex",
        "Attributes whose names fully match are stored in the signal (Wait copies "
        "them to released FlowFiles); unset: none.",
        display_name="Attribute Cache Regular Expression",
        validators=(v.REGEX,),
    )
    DISTRIBUTED_CACHE_SERVICE = _cache_property()
    writes_attributes = {"notified": "true once the signal was updated"}

    SUCCESS = Relationship("success", "The signal was updated")
    FAILURE = Relationship("failure", "No signal identifier, or a bad delta")

    def on_scheduled(self, context: ProcessContext) -> None:
        self._cache = context.property(self.DISTRIBUTED_CACHE_SERVICE).as_service(
            DistributedMapCacheClient
        )
        regex = context.property(self.ATTRIBUTE_CACHE_REGEX).value
        self._regex = re.compile(regex) if regex else None
        self._buffer = context.property(self.SIGNAL_BUFFER_COUNT).as_int() or 1

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        flowfiles = session.get(self._buffer)
        if not flowfiles:
            return
        groups: dict[str, tuple[dict[str, int], dict[str, str], list[FlowFile]]] = {}
        failed = []
        for ff in flowfiles:
            sid = context.property(self.RELEASE_SIGNAL_ID).evaluate(ff).value or ""
            name = context.property(self.SIGNAL_COUNTER_NAME).evaluate(ff).value
            delta_text = context.property(self.SIGNAL_COUNTER_DELTA).evaluate(ff).value
            try:
                delta = int((delta_text or "").strip())
            except ValueError:
                failed.append(
                    session.put_attribute(
                        ff,
                        "error.message",
                        f"Signal Counter Delta {delta_text!r} is not an integer",
                    )
                )
                continue
            if not sid.strip():
                failed.append(
                    session.put_attribute(
                        ff,
                        "error.message",
                        "Release Signal Identifier evaluated to blank",
                    )
                )
                continue
            deltas, attrs, members = groups.setdefault(sid, ({}, {}, []))
            counter = name or DEFAULT_COUNTER
            deltas[counter] = deltas.get(counter, 0) + delta
            if self._regex is not None:
                attrs.update(
                    (k, a) for k, a in ff.attributes.items() if self._regex.fullmatch(k)
                )
            members.append(ff)
        done, retry = [], []
        try:
            for sid, (deltas, attrs, members) in groups.items():
                if self._notify(sid, deltas, attrs):
                    done.extend(
                        session.put_attribute(ff, "notified", "true") for ff in members
                    )
                else:
                    retry.extend(members)
        except CacheUnavailableError as exc:
            _outage(context, session, exc)
            return
        session.transfer(failed, self.FAILURE)
        session.transfer(done, self.SUCCESS)
        if retry:  # contention beyond REPLACE_ATTEMPTS: back to the queue
            session.transfer(retry)

    def _notify(
        self, sid: str, deltas: Mapping[str, int], attrs: Mapping[str, str]
    ) -> bool:
        for _ in range(REPLACE_ATTEMPTS):
            entry = self._cache.fetch(sid)
            signal = Signal() if entry is None else Signal.parse(entry.value)
            for name, delta in deltas.items():
                signal.counts[name] = signal.counts.get(name, 0) + delta
            signal.attributes.update(attrs)
            revision = 0 if entry is None else entry.revision
            if self._cache.replace(CacheEntry(sid, signal.dump(), revision)):
                return True
        return False


WAIT_RELATIONSHIP = "wait"
KEEP_IN_UPSTREAM = "keep"
KEEP_ORIGINAL = "keeporiginal"
REPLACE = "replace"


class Wait(Processor):
    """Holds FlowFiles until their release signal's count reaches Target Signal Count.

    The count is the Signal Counter Name counter, or all counters summed when that is
    unset. Reaching the target releases Releasable FlowFile Count FlowFiles per target
    reached (the counts are consumed); a Releasable FlowFile Count of ``0`` releases every
    waiting FlowFile while the count is reached, without consuming it. Released FlowFiles
    get ``wait.counter.<name>`` and the signal's cached attributes (Attribute Copy Mode);
    every FlowFile gets ``wait.start.timestamp`` on first sight and goes to ``expired``
    after Expiration Duration. A fully consumed signal stays in the cache, empty.
    Waiting FlowFiles go to ``wait``, or with *Keep in the upstream connection* back to
    the queue, penalized; when nothing was released the processor then yields for Wait
    Penalty Duration (flowengine's penalty is per processor, not per FlowFile).
    """

    tags = ("map", "cache", "wait", "hold", "distributed", "signal", "release")
    input_requirement = InputRequirement.REQUIRED
    run_inline = True

    RELEASE_SIGNAL_ID = _signal_id_property("The signal to wait for.")
    TARGET_SIGNAL_COUNT = PropertyDescriptor(
        "target_signal_count",
        "The count that releases FlowFiles.",
        display_name="Target Signal Count",
        default="1",
        required=True,
        expression_language=FLOWFILE,
    )
    SIGNAL_COUNTER_NAME = PropertyDescriptor(
        "signal_counter_name",
        "The counter compared with the target; unset: the sum of all counters.",
        display_name="Signal Counter Name",
        expression_language=FLOWFILE,
    )
    WAIT_BUFFER_COUNT = PropertyDescriptor(
        "wait_buffer_count",
        "How many FlowFiles to check against the signal in one trigger.",
        display_name="Wait Buffer Count",
        default="1",
        required=True,
        validators=(v.POSITIVE_INTEGER,),
    )
    RELEASABLE_FLOWFILE_COUNT = PropertyDescriptor(
        "releasable_flowfile_count",
        "FlowFiles released each time the target is reached; `0`: any number while "
        "the count is reached.",
        display_name="Releasable FlowFile Count",
        default="1",
        required=True,
        expression_language=FLOWFILE,
    )
    EXPIRATION_DURATION = PropertyDescriptor(
        "expiration_duration",
        "How long a FlowFile may wait before going to expired.",
        display_name="Expiration Duration",
        default="10 min",
        required=True,
        validators=(v.TIME_PERIOD,),
    )
    ATTRIBUTE_COPY_MODE = PropertyDescriptor(
        "attribute_copy_mode",
        "Whether the signal's cached attributes replace the FlowFile's own.",
        display_name="Attribute Copy Mode",
        default=KEEP_ORIGINAL,
        required=True,
        allowable_values=(
            AllowableValue(REPLACE, "Replace if present", "The signal's value wins"),
            AllowableValue(KEEP_ORIGINAL, "Keep original", "The FlowFile's value wins"),
        ),
    )
    WAIT_MODE = PropertyDescriptor(
        "wait_mode",
        "Where waiting FlowFiles go.",
        display_name="Wait Mode",
        default=WAIT_RELATIONSHIP,
        required=True,
        allowable_values=(
            AllowableValue(
                WAIT_RELATIONSHIP, "Transfer to wait relationship", "Route to wait"
            ),
            AllowableValue(
                KEEP_IN_UPSTREAM,
                "Keep in the upstream connection",
                "Back to the incoming queue, penalized",
            ),
        ),
    )
    WAIT_PENALTY_DURATION = PropertyDescriptor(
        "wait_penalty_duration",
        "With Keep in the upstream connection: how long a waiting FlowFile is left "
        "alone (unset: the processor's penalty duration).",
        display_name="Wait Penalty Duration",
        validators=(v.TIME_PERIOD,),
    )
    DISTRIBUTED_CACHE_SERVICE = _cache_property()
    writes_attributes = {
        "wait.start.timestamp": "when the FlowFile started waiting (ms since the epoch)",
        "wait.counter.<name>": "the signal's counters when the FlowFile was released",
    }

    SUCCESS = Relationship("success", "Released by the signal")
    WAIT = Relationship("wait", "Still waiting (Wait Mode: wait relationship)")
    EXPIRED = Relationship("expired", "Waited longer than Expiration Duration")
    FAILURE = Relationship("failure", "No signal identifier, or a bad count")

    def on_scheduled(self, context: ProcessContext) -> None:
        self._cache = context.property(self.DISTRIBUTED_CACHE_SERVICE).as_service(
            DistributedMapCacheClient
        )
        self._buffer = context.property(self.WAIT_BUFFER_COUNT).as_int() or 1
        self._expire_ms = int(
            (context.property(self.EXPIRATION_DURATION).as_duration() or 600) * 1000
        )
        self._replace = context.property(self.ATTRIBUTE_COPY_MODE).value == REPLACE
        self._keep = context.property(self.WAIT_MODE).value == KEEP_IN_UPSTREAM

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        flowfiles = session.get(self._buffer)
        if not flowfiles:
            return
        now = int(time.time() * 1000)
        out: dict[str, list[FlowFile]] = {
            "success": [],
            "wait": [],
            "expired": [],
            "failure": [],
        }
        groups: dict[str, list[FlowFile]] = {}
        for ff in flowfiles:
            start = ff.get("wait.start.timestamp")
            if start is None or not start.isdigit():
                ff = session.put_attribute(ff, "wait.start.timestamp", str(now))
                start = str(now)
            if now - int(start) > self._expire_ms:
                out["expired"].append(ff)
                continue
            sid = context.property(self.RELEASE_SIGNAL_ID).evaluate(ff).value or ""
            if not sid.strip():
                out["failure"].append(session.put_attribute(
                    ff, "error.message", "Release Signal Identifier evaluated to blank"))  # fmt: skip
                continue
            groups.setdefault(sid, []).append(ff)
        try:
            for sid, members in groups.items():
                self._release(context, session, sid, members, out)
        except (CacheUnavailableError, _Conflict) as exc:
            if isinstance(
                exc, _Conflict
            ):  # another Wait changed the signal: retry soon
                session.rollback()
                return
            _outage(context, session, exc)
            return
        except ValueError as exc:
            session.rollback()
            context.bulletin(
                "error", f"bad Target Signal Count or Releasable FlowFile Count: {exc}"
            )
            context.yield_()
            return
        for rel in ("success", "expired", "failure"):
            session.transfer(out[rel], rel)
        if self._keep:
            penalty = context.property(self.WAIT_PENALTY_DURATION).as_duration()
            waiting = [session.penalize(ff) for ff in out["wait"]]
            session.transfer(waiting)
            if penalty is not None and waiting and not out["success"]:
                # nothing released: look again after Wait Penalty Duration
                context.yield_(penalty)
        else:
            session.transfer(out["wait"], self.WAIT)

    def _release(
        self,
        context: ProcessContext,
        session: ProcessSession,
        sid: str,
        members: list[FlowFile],
        out: dict[str, list[FlowFile]],
    ) -> None:
        entry = self._cache.fetch(sid)
        if entry is None:
            out["wait"].extend(members)
            return
        signal = Signal.parse(entry.value)
        first = members[0]
        target = int(
            context.property(self.TARGET_SIGNAL_COUNT).evaluate(first).value or "1"
        )
        per = int(
            context.property(self.RELEASABLE_FLOWFILE_COUNT).evaluate(first).value
            or "1"
        )
        counter = (
            context.property(self.SIGNAL_COUNTER_NAME).evaluate(first).value or None
        )
        count = signal.counts.get(counter, 0) if counter else signal.total()
        counters = dict(signal.counts)  # what released FlowFiles are told
        changed = False
        if per == 0:
            release = members if target > 0 and count >= target else []
        else:
            if target > 0 and count >= target:
                times = count // target
                signal.releasable += times * per
                _consume(signal, counter, times * target)
                changed = True
            n = min(signal.releasable, len(members))
            release = members[:n]
            if n:
                signal.releasable -= n
                changed = True
        out["wait"].extend(members[len(release) :])
        # A consumed signal is stored empty rather than removed: a remove is not
        # conditional on the revision, so it could drop a Notify landing in between.
        if changed and not self._cache.replace(
            CacheEntry(sid, signal.dump(), entry.revision)
        ):
            raise _Conflict(sid)
        for ff in release:
            extra: dict[str, str] = {
                f"wait.counter.{k}": str(n) for k, n in counters.items()
            }
            extra["wait.counter.total"] = str(sum(counters.values()))
            extra.update(
                (k, a)
                for k, a in signal.attributes.items()
                if self._replace or ff.get(k) is None
            )
            out["success"].append(session.put_attributes(ff, extra))


class _Conflict(Exception):
    """Another Wait replaced the signal between our fetch and replace."""


def _consume(signal: Signal, counter: str | None, amount: int) -> None:
    """Take ``amount`` off the named counter, or off the counters in order (total)."""
    names = [counter] if counter else list(signal.counts)
    for name in names:
        take = min(amount, signal.counts.get(name, 0))
        signal.counts[name] = signal.counts.get(name, 0) - take
        amount -= take
    signal.counts = {k: n for k, n in signal.counts.items() if n}

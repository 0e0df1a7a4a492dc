"""DetectDuplicate: routes FlowFiles whose identifier the cache has already seen."""

from __future__ import annotations

import json
import time

from flowengine.controller_services.cache import (
    CacheUnavailableError,
    DistributedMapCacheClient,
)

from flowengine import (
    ExpressionLanguageScope,
    InputRequirement,
    ProcessContext,
    Processor,
    ProcessSession,
    PropertyDescriptor,
    Relationship,
)
from flowengine import validators as v

__all__ = ["DetectDuplicate"]

FLOWFILE = ExpressionLanguageScope.FLOWFILE_ATTRIBUTES
ORIGINAL_DESCRIPTION = "original.flowfile.description"


def encode(description: str, entry_ms: int) -> str:
    """The cache value: when the entry was stored (for age-off) and its description."""
    return json.dumps([entry_ms, description], separators=(",", ":"))


def decode(value: str) -> tuple[int, str]:
    """(entry time in ms, description); a value another writer stored is all
    description, with no entry time (never aged off)."""
    try:
        entry_ms, description = json.loads(value)
        return int(entry_ms), str(description)
    except (ValueError, TypeError):
        return 0, value


class DetectDuplicate(Processor):
    """Routes each FlowFile to ``duplicate`` when its Cache Entry Identifier is in the
    cache, else to ``non-duplicate`` (storing the identifier when Cache The Entry
    Identifier is true).

    The cache value is the evaluated FlowFile Description; a duplicate gets the first
    one's description in ``original.flowfile.description``. With Age Off Duration an entry
    older than that no longer makes a duplicate (and is refreshed). A blank identifier
    goes to ``failure``. When the cache cannot be reached the session is rolled back, the
    processor yields and posts a bulletin: the FlowFiles stay queued and are tried again.

    The cache is written before the session commits (as in NiFi): a run killed between
    the two replays the FlowFiles, which then count as duplicates of themselves.
    """

    tags = ("hash", "dupe", "duplicate", "dedupe")
    input_requirement = InputRequirement.REQUIRED
    run_inline = True
    example = """\
dedupe:
  type: DetectDuplicate
  properties:
    distributed_cache_service: seen
    cache_entry_identifier: "${filename}"
    age_off_duration: 1 day
  auto_terminate: [duplicate]
"""

    CACHE_ENTRY_IDENTIFIER = PropertyDescriptor(
        "cache_entry_identifier",
        "What identifies a FlowFile: duplicates have the same value.",
        display_name="Cache Entry Identifier",
        default="${hash.value}",
        required=True,
        expression_language=FLOWFILE,
    )
    FLOWFILE_DESCRIPTION = PropertyDescriptor(
        "flowfile_description",
        "Stored with the identifier; a duplicate gets it in original.flowfile.description.",
        display_name="FlowFile Description",
        default="",
        expression_language=FLOWFILE,
    )
    AGE_OFF_DURATION = PropertyDescriptor(
        "age_off_duration",
        "How long an identifier makes duplicates; unset: for ever.",
        display_name="Age Off Duration",
        validators=(v.TIME_PERIOD,),
    )
    DISTRIBUTED_CACHE_SERVICE = PropertyDescriptor(
        "distributed_cache_service",
        "The cache of seen identifiers.",
        display_name="Distributed Cache Service",
        required=True,
        service=DistributedMapCacheClient,
    )
    CACHE_IDENTIFIER = PropertyDescriptor(
        "cache_the_entry_identifier",
        "Store the identifier of a non-duplicate; false: only check (another "
        "DetectDuplicate stores).",
        display_name="Cache The Entry Identifier",
        default="true",
        allowable_values=("true", "false"),
    )
    writes_attributes = {
        ORIGINAL_DESCRIPTION: "the FlowFile Description stored by the first FlowFile "
        "with this identifier (duplicates only)"
    }

    DUPLICATE = Relationship("duplicate", "The identifier was in the cache")
    NON_DUPLICATE = Relationship("non-duplicate", "The identifier was not in the cache")
    FAILURE = Relationship("failure", "No identifier (blank Cache Entry Identifier)")

    def on_scheduled(self, context: ProcessContext) -> None:
        self._id = context.property(self.CACHE_ENTRY_IDENTIFIER)
        self._desc = context.property(self.FLOWFILE_DESCRIPTION)
        age = context.property(self.AGE_OFF_DURATION).as_duration()
        self._age_ms = None if age is None else int(age * 1000)
        self._store = context.property(self.CACHE_IDENTIFIER).as_bool() is not False
        self._cache = context.property(self.DISTRIBUTED_CACHE_SERVICE).as_service(
            DistributedMapCacheClient
        )

    def on_trigger(self, context: ProcessContext, session: ProcessSession) -> None:
        flowfiles = session.get(context.batch_size)
        if not flowfiles:
            return
        now = int(time.time() * 1000)
        keyed, failed = [], []
        for ff in flowfiles:
            key = self._id.evaluate(ff).value or ""
            if not key.strip():
                failed.append(
                    session.put_attribute(
                        ff, "error.message", "Cache Entry Identifier evaluated to blank"
                    )
                )
                continue
            keyed.append((ff, key, encode(self._desc.evaluate(ff).value or "", now)))
        cache = self._cache
        try:
            if self._store:
                found = cache.get_and_put_if_absent_many([(k, e) for _, k, e in keyed])
            else:
                found = [cache.get(k) for _, k, _ in keyed]
            dup, fresh = [], []
            for (ff, key, entry), old in zip(keyed, found, strict=True):
                if old is not None:
                    entry_ms, description = decode(old)
                    if (
                        self._age_ms is not None
                        and entry_ms
                        and (now >= entry_ms + self._age_ms)
                    ):
                        if self._store:
                            cache.put(key, entry)
                        old = None
                if old is None:
                    fresh.append(ff)
                else:
                    dup.append(
                        session.put_attribute(ff, ORIGINAL_DESCRIPTION, description)
                    )
        except CacheUnavailableError as exc:
            session.rollback()
            context.bulletin("error", f"the cache is unavailable, will retry: {exc}")
            context.yield_()
            return
        if failed:
            context.logger.warning("blank_cache_entry_identifier", count=len(failed))
            session.transfer(failed, self.FAILURE)
        session.transfer(dup, self.DUPLICATE)
        session.transfer(fresh, self.NON_DUPLICATE)

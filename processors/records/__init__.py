"""Record processors: Convert, Query, Split, Merge, Partition, Update, Validate, Lookup.

They work on :class:`pyarrow.RecordBatch` streams produced and consumed by the record
reader/writer services of :mod:`flowengine.controller_services.records`.
"""

from __future__ import annotations

__all__: list[str] = []

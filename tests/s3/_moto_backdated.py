"""Run moto's S3 server with two behaviours of real S3 that moto lacks.

* Real S3 dates a multipart upload by when it was *started*, so an object can become
  visible long after its LastModified; moto dates it at completion. Keys named
  ``...backdated-<N>s...`` are dated N seconds early, to reproduce that.
* ListMultipartUploads reports a fixed ``Initiated`` date (2010) in moto; here it is the
  real initiation time, so the age-off of stale uploads can be tested.

Nothing else changes.
"""

from __future__ import annotations

import datetime
import re
import sys

import moto.s3.models as models
import moto.s3.responses as responses
from moto.server import main

_BACKDATED = re.compile(r"backdated-(\d+)s")
_init = models.FakeKey.__init__


def _backdated_init(
    self: models.FakeKey, name: object, *args: object, **kwargs: object
) -> None:
    _init(self, name, *args, **kwargs)  # type: ignore[arg-type]
    m = _BACKDATED.search(name) if isinstance(name, str) else None
    if m:
        self.last_modified -= datetime.timedelta(seconds=int(m.group(1)))


models.FakeKey.__init__ = _backdated_init  # type: ignore[method-assign]

_mp_init = models.FakeMultipart.__init__


def _dated_multipart_init(
    self: models.FakeMultipart, *args: object, **kwargs: object
) -> None:
    _mp_init(self, *args, **kwargs)  # type: ignore[arg-type]
    self.initiated = datetime.datetime.now(datetime.UTC)  # type: ignore[attr-defined]


models.FakeMultipart.__init__ = _dated_multipart_init  # type: ignore[method-assign]
_serialized = responses.S3Response.serialized


def _serialized_with_dates(self: responses.S3Response, result: object) -> object:
    uploads = getattr(result, "result", None)
    if isinstance(uploads, dict) and uploads.get("Uploads"):
        backend = self.backend.buckets.get(uploads.get("Bucket"))
        found = getattr(backend, "multiparts", {}) if backend is not None else {}
        for u in uploads["Uploads"]:
            mp = found.get(u["UploadId"])
            if mp is not None and hasattr(mp, "initiated"):
                u["Initiated"] = mp.initiated.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return _serialized(self, result)


responses.S3Response.serialized = _serialized_with_dates  # type: ignore[method-assign]

if __name__ == "__main__":
    main(sys.argv[1:])

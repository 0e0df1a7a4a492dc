"""Run moto's S3 server, dating keys named ``...backdated-<N>s...`` N seconds early.

Real S3 dates a multipart upload by when it was *started*, so an object can become
visible long after its LastModified; moto dates it at completion. This launcher gives
the test server that real behaviour for keys that ask for it, and changes nothing else.
"""

from __future__ import annotations

import datetime
import re
import sys

import moto.s3.models as models
from moto.server import main

_BACKDATED = re.compile(r"backdated-(\d+)s")
_init = models.FakeKey.__init__


def _backdated_init(self: models.FakeKey, name: str, *args: object, **kwargs: object) -> None:
    _init(self, name, *args, **kwargs)  # type: ignore[arg-type]
    m = _BACKDATED.search(name)
    if m:
        self.last_modified -= datetime.timedelta(seconds=int(m.group(1)))


models.FakeKey.__init__ = _backdated_init  # type: ignore[method-assign]

if __name__ == "__main__":
    main(sys.argv[1:])

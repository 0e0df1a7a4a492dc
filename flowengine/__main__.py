"""``python -m flowengine`` is the ``flowengine`` command."""

from __future__ import annotations

from ._cli import main

raise SystemExit(main())

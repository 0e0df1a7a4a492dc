"""The ``flowengine`` command: ``flowengine._cli:main`` is the console script and
``python -m flowengine`` runs it too."""

from __future__ import annotations

from ._cli import main

__all__ = ["main"]

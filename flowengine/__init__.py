"""flowengine: a NiFi-style flow-based data pipeline engine.

Flows are processors joined by bounded queues, passing FlowFiles (attributes plus content
by reference). Write a flow in YAML and run it with ``flowengine run``, embed it in a
Python job with :func:`load` and :meth:`Flow.run`, or write processors as plugins by
subclassing :class:`Processor` (or with the compact :func:`transform` decorator).

Names are imported lazily so ``flowengine --help`` starts fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "ALLOWABLE_BOOLEANS",
    "AllowableValue",
    "ConfigurationContext",
    "ConfigurationError",
    "ContentError",
    "ControllerService",
    "DynamicProperties",
    "ExpressionLanguageScope",
    "Flow",
    "FlowEngineError",
    "FlowFile",
    "InputRequirement",
    "ProcessContext",
    "ProcessException",
    "ProcessGroup",
    "ProcessSession",
    "Processor",
    "PropertyDescriptor",
    "Relationship",
    "RunResult",
    "TransformResult",
    "ValidationError",
    "choices",
    "load",
    "transform",
    "validators",
]

_LAZY = {
    "ALLOWABLE_BOOLEANS": "._api._properties",
    "AllowableValue": "._api._properties",
    "ConfigurationContext": "._api._service",
    "ConfigurationError": "._errors",
    "ContentError": "._errors",
    "ControllerService": "._api._service",
    "DynamicProperties": "._api._component",
    "ExpressionLanguageScope": "._api._properties",
    "Flow": "._flow._flow",
    "FlowEngineError": "._errors",
    "FlowFile": "._api._flowfile",
    "InputRequirement": "._api._processor",
    "ProcessContext": "._api._context",
    "ProcessException": "._errors",
    "ProcessGroup": "._flow._definition",
    "ProcessSession": "._api._session",
    "Processor": "._api._processor",
    "PropertyDescriptor": "._api._properties",
    "Relationship": "._api._relationship",
    "RunResult": "._flow._flow",
    "TransformResult": "._api._transform",
    "ValidationError": "._errors",
    "load": "._flow._loader",
    "transform": "._api._transform",
    "validators": "._api._properties",
    "choices": "._api._properties",
}

if TYPE_CHECKING:
    from ._api._component import DynamicProperties
    from ._api._context import ProcessContext
    from ._api._flowfile import FlowFile
    from ._api._processor import InputRequirement, Processor
    from ._api._properties import (
        ALLOWABLE_BOOLEANS,
        AllowableValue,
        ExpressionLanguageScope,
        PropertyDescriptor,
        choices,
        validators,
    )
    from ._api._relationship import Relationship
    from ._api._service import ConfigurationContext, ControllerService
    from ._api._session import ProcessSession
    from ._api._transform import TransformResult, transform
    from ._errors import (
        ConfigurationError,
        ContentError,
        FlowEngineError,
        ProcessException,
        ValidationError,
    )
    from ._flow._definition import ProcessGroup
    from ._flow._flow import Flow, RunResult
    from ._flow._loader import load


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'flowengine' has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

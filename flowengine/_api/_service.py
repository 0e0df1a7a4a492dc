"""Controller services: shared, configured resources (NiFi §6).

A service declares properties like a processor and has no trigger. The runtime enables
services before the processors that use them start (services they reference first) and
disables them after those processors stop. Processors reach a service through a property
declared with ``service=SomeInterface``; any service that is an instance of that class
(the interface) qualifies, so interfaces are plain abstract base classes.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from ._component import ConfigurableComponent
from ._context import PropertyValue, ServiceLookup

if TYPE_CHECKING:
    import structlog

    from ._properties import PropertyDescriptor

__all__ = ["ConfigurationContext", "ControllerService", "ServiceState"]

T = TypeVar("T")


class ServiceState(enum.Enum):
    DISABLED = "disabled"
    ENABLING = "enabling"
    ENABLED = "enabled"
    DISABLING = "disabling"


#: the legal lifecycle moves, as a pure table (tests drive it without an event loop)
TRANSITIONS: Mapping[tuple[ServiceState, str], ServiceState] = {
    (ServiceState.DISABLED, "enable"): ServiceState.ENABLING,
    (ServiceState.ENABLING, "enabled"): ServiceState.ENABLED,
    (ServiceState.ENABLING, "failed"): ServiceState.ENABLING,
    (ServiceState.ENABLING, "disable"): ServiceState.DISABLED,
    (ServiceState.ENABLED, "disable"): ServiceState.DISABLING,
    (ServiceState.DISABLING, "disabled"): ServiceState.DISABLED,
}


def transition(state: ServiceState, event: str) -> ServiceState:
    """The next lifecycle state, or ValueError for an illegal move."""
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise ValueError(f"cannot {event!r} a service that is {state.value}") from None


class ConfigurationContext:
    """What a service sees of its configuration when it is enabled."""

    def __init__(
        self,
        *,
        name: str,
        properties: Mapping[str, PropertyValue],
        dynamic_properties: Mapping[str, PropertyValue],
        services: ServiceLookup,
        logger: structlog.typing.FilteringBoundLogger,
    ) -> None:
        self.name = name
        self.properties = properties
        self.dynamic_properties = dynamic_properties
        self._services = services
        self.logger = logger

    def property(self, descriptor: PropertyDescriptor | str) -> PropertyValue:
        name = descriptor if isinstance(descriptor, str) else descriptor.name
        pv = self.properties.get(name) or self.dynamic_properties.get(name)
        if pv is None:
            raise KeyError(name)
        return pv

    def service(self, name: str, interface: type[T] | None = None) -> T:
        svc = self._services(name)
        if interface is not None and not isinstance(svc, interface):
            from .._errors import ServiceError

            raise ServiceError(f"service {name!r} is not a {interface.__name__}")
        return svc  # type: ignore[no-any-return]


class ControllerService(ConfigurableComponent):
    """Base class of controller services.

    Subclass an interface (an abstract class processors ask for) and this class; declare
    properties; acquire resources in :meth:`on_enabled` and release them in
    :meth:`on_disabled`.
    """

    def on_enabled(self, context: ConfigurationContext) -> None:
        """Acquire resources; raising keeps the service disabled (and the flow from starting)."""

    def on_disabled(self) -> None:
        """Release resources."""

    @classmethod
    def interfaces(cls) -> list[type[Any]]:
        """The classes this service can be used as (its bases other than the framework's)."""
        return [
            k
            for k in cls.__mro__[1:]
            if k not in (ControllerService, ConfigurableComponent, object)
        ]

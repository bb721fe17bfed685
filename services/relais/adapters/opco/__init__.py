"""The OPCO client: ``HttpOpcoGateway`` implements ``relais.services.opco_port.OpcoGateway``."""

from relais.adapters.opco.breaker import BreakerSettings
from relais.adapters.opco.clock import Clock, SystemClock
from relais.adapters.opco.gateway import HttpOpcoGateway
from relais.adapters.opco.observer import NullObserver, RequestObserver

__all__ = [
    "BreakerSettings",
    "Clock",
    "HttpOpcoGateway",
    "NullObserver",
    "RequestObserver",
    "SystemClock",
]

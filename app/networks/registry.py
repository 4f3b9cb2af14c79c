"""The one registry of networks: each ``app/networks/<key>/`` package calls :func:`register`.

The registry is filled when :mod:`app.networks` is imported (it imports every network
package, in the order pages list them). Modules that only need to look a network up import
:data:`CONNECTORS` from here, which imports nothing, so there is no import cycle.
"""

from __future__ import annotations

from typing import TypeVar

from app.networks.base import Connector

#: Every network by key, in the order pages list them.
CONNECTORS: dict[str, Connector] = {}

C = TypeVar("C", bound=type[Connector])


def register(cls: C) -> C:
    """Class decorator: register one instance of the connector ``cls`` under its key."""
    if cls.key in CONNECTORS:
        raise ValueError(f"a network called {cls.key!r} is already registered")
    CONNECTORS[cls.key] = cls()
    return cls


def unregister(key: str) -> None:
    """Remove a network (tests that add one of their own use it to clean up)."""
    CONNECTORS.pop(key, None)

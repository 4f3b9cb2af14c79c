"""The networks: one folder each, holding everything specific to that network.

Each ``app/networks/<key>/`` package defines one :class:`~app.networks.base.Connector`
subclass and registers it with :func:`~app.networks.registry.register`: how the network signs
in, how it is read live (``fetcher.py``), how its archive is read (``importer.py``), what it
cannot provide, and the connect page's partial (``templates/connect.html``). Importing this
package fills :data:`CONNECTORS` in the order pages list the networks.
"""

from __future__ import annotations

from importlib import import_module

from app.networks.base import Connector
from app.networks.registry import CONNECTORS, register

#: The networks shipped with the app, in the order pages list them.
BUILT_IN = ("github", "mastodon", "bluesky", "x", "facebook", "linkedin", "instagram")

for _key in BUILT_IN:
    import_module(f"{__name__}.{_key}")

__all__ = ["BUILT_IN", "CONNECTORS", "Connector", "register"]

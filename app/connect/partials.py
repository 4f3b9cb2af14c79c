"""The connect page's per-network partials: ``<key>:name.html`` from the ``templates/``
folder beside network ``key``'s connector."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint
from jinja2 import BaseLoader, Environment, FileSystemLoader, TemplateNotFound

from app.networks import CONNECTORS


class ConnectorTemplates(BaseLoader):
    """Loads ``<key>:name.html`` from the ``templates/`` folder beside network ``key``'s
    connector (``app/networks/<key>/templates/``), for every registered network."""

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        key, sep, name = template.partition(":")
        connector = CONNECTORS.get(key)
        if not sep or connector is None:
            raise TemplateNotFound(template)
        loader = FileSystemLoader(connector.template_folder)
        return loader.get_source(environment, name)

    def list_templates(self) -> list[str]:
        return []


class ConnectBlueprint(Blueprint):
    """A blueprint whose templates include each network's partials (``github:connect.html``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._loader = ConnectorTemplates()

    @property
    def jinja_loader(self) -> BaseLoader | None:  # type: ignore[override]
        return self._loader

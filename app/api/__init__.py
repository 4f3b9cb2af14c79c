"""The read-only JSON API (``/api/v1/``) and the settings page of its personal access tokens.

* :mod:`app.api.tokens`: making, finding and revoking tokens (stored as SHA-256 hashes);
* :mod:`app.api.cursors`: the signed, opaque cursors of the paged lists;
* :mod:`app.api.views`: the ``api`` blueprint, tokens only (no session cookie is read);
* :mod:`app.api.openapi`: the OpenAPI 3.1 document served at ``/api/v1/openapi.json``;
* :mod:`app.api.settings`: ``/settings/tokens``, where tokens are made and revoked.
"""

from __future__ import annotations

from flask import Blueprint


def blueprints() -> tuple[Blueprint, ...]:
    """The ``api`` blueprint (``/api/v1/``) and ``api_tokens`` (``/settings/tokens``)."""
    from app.api import settings, views

    return views.bp, settings.bp

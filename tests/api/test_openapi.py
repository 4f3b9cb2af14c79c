"""The OpenAPI document: valid OpenAPI 3.1, served without a token, describing every route
of the ``api`` blueprint, and the copy rendered in the manual is the served one."""

from __future__ import annotations

import json
import re
from pathlib import Path

from openapi_spec_validator import validate

from app.api.openapi import openapi_document

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_the_document_is_valid_openapi_3_1():
    document = openapi_document()
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_it_is_served_without_a_token(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.get_json() == json.loads(json.dumps(openapi_document()))


def test_every_route_is_described(app):
    paths = openapi_document()["paths"]
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api.") or rule.endpoint == "api.not_found":
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule).removeprefix("/api/v1")
        routes.add(path)
    # the two people lists share a view but are separate paths
    assert routes == set(paths)


def test_the_manual_shows_the_served_document_and_every_route():
    assert json.loads((DOCS / "openapi.json").read_text()) == json.loads(
        json.dumps(openapi_document())
    ), "docs/openapi.json is stale: python -m app.api.openapi > docs/openapi.json"
    manual = (DOCS / "api_v1.rst").read_text()
    for path in openapi_document()["paths"]:
        assert f"/api/v1{path}" in manual, path

"""The OpenAPI 3.1 document of ``/api/v1/``, written by hand and checked by the tests
(every route of the ``api`` blueprint is described; the document validates)."""

from __future__ import annotations

from typing import Any

from app.networks import CONNECTORS

VERSION = "1.0.0"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    texts = {
        400: "A query value or cursor that is not valid",
        401: "No token, or an unknown or revoked token",
        404: "No such network, not yours, or no data yet",
        429: "Too many requests for this token; see Retry-After",
    }
    return {str(code): _json(_ref("Error"), texts[code]) for code in codes}


NULLABLE_INT = {"type": ["integer", "null"]}
NULLABLE_STR = {"type": ["string", "null"]}
NETWORK_PARAM = {
    "name": "network",
    "in": "path",
    "required": True,
    "description": "A network key.",
    "schema": {"type": "string", "enum": list(CONNECTORS)},
}
PAGING_PARAMS: list[dict[str, Any]] = [
    {
        "name": "limit",
        "in": "query",
        "description": "Items per page (1-200). Ignored with a cursor, which carries its own.",
        "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
    },
    {
        "name": "cursor",
        "in": "query",
        "description": "The next_cursor or previous_cursor of an earlier page (opaque, signed).",
        "schema": {"type": "string"},
    },
]
SORT_PARAMS: list[dict[str, Any]] = [
    {
        "name": "sort",
        "in": "query",
        "description": "overlap: followers of yours they follow (followers list) or friends in "
        "common (friends list); count: their followers (followers list) or follows (friends).",
        "schema": {
            "type": "string",
            "enum": ["overlap", "handle", "name", "count", "community"],
            "default": "overlap",
        },
    },
    {
        "name": "order",
        "in": "query",
        "schema": {"type": "string", "enum": ["asc", "desc"], "default": "desc"},
    },
    {
        "name": "q",
        "in": "query",
        "description": "Search in handles and names (up to 200 characters).",
        "schema": {"type": "string", "maxLength": 200},
    },
]


def _page_schema(item: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["network", "snapshot_id", "limit", "total", "items", "next_cursor"],
        "properties": {
            "network": {"type": "string"},
            "list": {"type": "string", "enum": ["followers", "friends"]},
            "snapshot_id": {"type": "integer"},
            "sort": {"type": "string"},
            "order": {"type": "string"},
            "q": {"type": "string"},
            "limit": {"type": "integer"},
            "total": {
                "type": ["integer", "null"],
                "description": "The list's size; null for a followers or friends search.",
            },
            "items": {"type": "array", "items": _ref(item)},
            "next_cursor": NULLABLE_STR,
            "previous_cursor": NULLABLE_STR,
        },
    }


SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["status", "message"],
                "properties": {"status": {"type": "integer"}, "message": {"type": "string"}},
            }
        },
    },
    "Connection": {
        "type": "object",
        "required": ["network", "label", "source", "status", "has_data", "url"],
        "properties": {
            "network": {"type": "string"},
            "label": {"type": "string"},
            "source": {"type": "string", "enum": ["live", "public", "import", "demo"]},
            "handle": NULLABLE_STR,
            "display_name": NULLABLE_STR,
            "profile_url": NULLABLE_STR,
            "status": {"type": "string", "enum": ["ok", "reconnect"]},
            "last_synced_at": {"type": ["string", "null"], "format": "date-time"},
            "has_data": {"type": "boolean"},
            "url": {"type": "string", "format": "uri"},
        },
    },
    "Part": {
        "type": "object",
        "description": "One part of the data (profile, followers, friends, posts, edges): what "
        "is shown, from which sources and as of when; newest is the latest read when it gave "
        "less and the earlier version was kept.",
        "properties": {
            "part": {"type": "string"},
            "label": {"type": "string"},
            "state": {"type": "string"},
            "shown": {"type": "string"},
            "reason": NULLABLE_STR,
            "sources": {"type": "array", "items": {"type": "object"}},
            "newest": {"type": ["object", "null"]},
        },
    },
    "Snapshot": {
        "type": "object",
        "required": ["id", "synced_at", "counts", "parts", "notes"],
        "properties": {
            "id": {"type": "integer"},
            "synced_at": {"type": "string", "format": "date-time"},
            "archive_date": {"type": ["string", "null"], "format": "date-time"},
            "source": NULLABLE_STR,
            "counts": {
                "type": "object",
                "properties": {
                    key: NULLABLE_INT for key in ("followers", "friends", "posts", "mutuals")
                },
            },
            "parts": {"type": "array", "items": _ref("Part")},
            "notes": {"type": "array", "items": {"type": "string"}},
            "profile": {"type": ["object", "null"]},
            "timeline": {"type": ["object", "null"]},
            "sentiment": {"type": ["object", "null"]},
            "graph_meta": {"type": ["object", "null"]},
            "growth": {"type": ["object", "null"]},
            "missing_parts": {"type": ["array", "null"], "items": {"type": "string"}},
        },
    },
    "Summary": {
        "type": "object",
        "required": ["network", "connection", "snapshot"],
        "properties": {
            "network": {"type": "string"},
            "connection": _ref("Connection"),
            "sync": {"type": ["object", "null"], "description": "The newest sync run."},
            "snapshot": {"oneOf": [_ref("Snapshot"), {"type": "null"}]},
        },
    },
    "Person": {
        "type": "object",
        "required": ["id", "handle"],
        "properties": {
            "id": {"type": "string"},
            "handle": {"type": "string"},
            "name": NULLABLE_STR,
            "url": NULLABLE_STR,
            "followers_count": NULLABLE_INT,
            "following_count": NULLABLE_INT,
            "my_followers_they_follow": {
                "type": ["integer", "null"],
                "description": "Followers list only",
            },
            "common_friends": {"type": ["integer", "null"], "description": "Friends list only"},
            "follows_back": {"type": "boolean"},
            "community": NULLABLE_INT,
        },
    },
    "Post": {
        "type": "object",
        "required": ["id", "created_at"],
        "properties": {
            "id": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"},
            "kind": {"type": "string"},
            "text": {"type": "string"},
            "url": NULLABLE_STR,
            "reply_count": NULLABLE_INT,
            "like_count": NULLABLE_INT,
            "repost_count": NULLABLE_INT,
            "sentiment_label": NULLABLE_STR,
            "sentiment_score": {"type": ["number", "null"]},
        },
    },
    "PeoplePage": _page_schema("Person"),
    "PostsPage": _page_schema("Post"),
    "GrowthPoint": {
        "type": "object",
        "required": ["at", "followers", "friends"],
        "properties": {
            "at": {"type": "string", "format": "date-time"},
            "synced_at": {"type": "string", "format": "date-time"},
            "followers": NULLABLE_INT,
            "friends": NULLABLE_INT,
            "archive": {"type": "boolean"},
        },
    },
    "Graph": {
        "type": "object",
        "description": "Node-link graph: the owner (me: true) and every follower or friend; "
        "links are every known follow among them.",
        "required": ["nodes", "links"],
        "properties": {
            "nodes": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "label": {"type": "string"},
                        "me": {"type": "boolean"},
                        "community": NULLABLE_INT,
                        "pagerank": {"type": ["number", "null"]},
                        "size": {"type": ["number", "null"]},
                    },
                },
            },
            "links": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"source": {"type": "string"}, "target": {"type": "string"}},
                },
            },
        },
    },
    "Matches": {
        "type": "object",
        "required": ["available", "networks", "pairs", "matches"],
        "properties": {
            "available": {
                "type": "boolean",
                "description": "false until two networks have data",
            },
            "networks": {"type": "array", "items": {"type": "string"}},
            "total": {"type": "integer"},
            "strong": {"type": "integer"},
            "weak": {"type": "integer"},
            "sentences": {"type": "array", "items": {"type": "string"}},
            "pairs": {"type": "array", "items": {"type": "object"}},
            "combinations": {
                "type": "array",
                "description": "People found on exactly each combination of networks (link "
                "or handle matches only).",
                "items": {"type": "object"},
            },
            "combinations_complete": {
                "type": "boolean",
                "description": "false when counted from a cut list (checks stored before "
                "combinations were)",
            },
            "matches": {
                "type": "array",
                "description": "Listed matches (at most 300), weak name-only ones marked",
                "items": {"type": "object"},
            },
        },
    },
}


def _get(
    summary: str,
    schema: str,
    *,
    tag: str,
    params: list[dict[str, Any]] | None = None,
    errors: tuple[int, ...] = (401, 404, 429),
) -> dict[str, Any]:
    operation_id = summary.lower().replace(" ", "_").replace("'", "")
    return {
        "get": {
            "summary": summary,
            "operationId": operation_id,
            "tags": [tag],
            "parameters": params or [],
            "responses": {"200": _json(_ref(schema), summary)} | _errors(*errors),
        }
    }


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document."""
    role_param = {
        "name": "role",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "enum": ["followers", "friends"]},
    }
    paging_errors = (400, 401, 404, 429)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "MD Analytics API",
            "version": VERSION,
            "description": "Read-only access to your own stored analytics. Authenticate with a "
            "personal access token made in Settings > API tokens: "
            "`Authorization: Bearer <token>`.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearerToken": []}],
        "tags": [{"name": "account"}, {"name": "network"}, {"name": "meta"}],
        "paths": {
            "/connections": _get(
                "List connections", "ConnectionList", tag="account", errors=(401, 429)
            ),
            "/networks/{network}": _get(
                "Network summary", "Summary", tag="network", params=[NETWORK_PARAM]
            ),
            "/networks/{network}/followers": _get(
                "List followers",
                "PeoplePage",
                tag="network",
                params=[NETWORK_PARAM, *SORT_PARAMS, *PAGING_PARAMS],
                errors=paging_errors,
            ),
            "/networks/{network}/friends": _get(
                "List friends",
                "PeoplePage",
                tag="network",
                params=[NETWORK_PARAM, *SORT_PARAMS, *PAGING_PARAMS],
                errors=paging_errors,
            ),
            "/networks/{network}/posts": _get(
                "List posts",
                "PostsPage",
                tag="network",
                params=[NETWORK_PARAM, *PAGING_PARAMS],
                errors=paging_errors,
            ),
            "/networks/{network}/growth": _get(
                "Growth series", "Growth", tag="network", params=[NETWORK_PARAM]
            ),
            "/networks/{network}/graphs/{role}": _get(
                "Graph", "Graph", tag="network", params=[NETWORK_PARAM, role_param]
            ),
            "/matches": _get("Cross-network matches", "Matches", tag="account", errors=(401, 429)),
            "/openapi.json": {
                "get": {
                    "summary": "This document",
                    "operationId": "openapi",
                    "tags": ["meta"],
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "The OpenAPI document",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "bearerToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A personal access token (mda_...), read-only.",
                }
            },
            "schemas": SCHEMAS
            | {
                "ConnectionList": {
                    "type": "object",
                    "required": ["connections"],
                    "properties": {"connections": {"type": "array", "items": _ref("Connection")}},
                },
                "Growth": {
                    "type": "object",
                    "required": ["network", "points"],
                    "properties": {
                        "network": {"type": "string"},
                        "points": {"type": "array", "items": _ref("GrowthPoint")},
                    },
                },
            },
        },
    }


if __name__ == "__main__":  # python -m app.api.openapi > docs/openapi.json
    import json

    print(json.dumps(openapi_document(), indent=2))

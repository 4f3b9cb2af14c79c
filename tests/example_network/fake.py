"""A fake Pebble API on 127.0.0.1 for the example network's tests."""

from __future__ import annotations

from typing import Any

from tests.fakes.server import FakeServer, Request, Response
from tests.fakes.world import small_world

USERS = {
    "ada": {"id": 1, "handle": "ada", "name": "Ada", "followers_count": 2, "following_count": 1},
    "bob": {"id": 2, "handle": "bob", "name": "Bob", "followers_count": 5, "following_count": 9},
    "cy": {"id": 3, "handle": "cy", "name": "=Cy", "followers_count": 0, "following_count": 4},
}
FOLLOWERS = {"ada": ["bob", "cy"]}
FOLLOWING = {"ada": ["bob"]}
POSTS = {
    "ada": [
        {"id": 10, "text": "I love this happy day", "created_at": "2026-10-01T09:00:00+00:00"},
        {"id": 11, "text": "Awful, sad news", "created_at": "2026-10-02T18:30:00+00:00"},
    ]
}


class FakePebble(FakeServer):
    """``GET /users/<handle>``, ``/users/<handle>/followers|following|posts``."""

    def __init__(self) -> None:
        super().__init__(small_world())

    def route(self, request: Request) -> Response:
        parts = request.path.strip("/").split("/")
        if len(parts) < 2 or parts[0] != "users" or parts[1] not in USERS:
            return Response(404, {"error": "not found"})
        handle = parts[1]
        if len(parts) == 2:
            return Response(200, USERS[handle])
        items: list[Any]
        if parts[2] == "posts":
            items = POSTS.get(handle, [])
        else:
            table = FOLLOWERS if parts[2] == "followers" else FOLLOWING
            items = [USERS[h] for h in table.get(handle, [])]
        return Response(200, {"items": items})

    def rate_headers(self, remaining: int, reset: float) -> dict[str, str]:
        return {}

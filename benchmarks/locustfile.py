"""Locust users for ``loadtest.py``: signed-in people walking the network pages.

Not run alone: ``loadtest.py`` signs the sessions in, writes them to the JSON file named by
``BENCH_SESSIONS`` and starts ``locust -f benchmarks/locustfile.py --headless``. Settings
come from the environment:

* ``BENCH_SESSIONS``: ``[{"cookie": "session=...", "ip": "10.77.0.1"}, ...]``; user *i* takes
  session *i* (modulo), and sends its address as ``X-Forwarded-For`` (the app runs with
  ``TRUSTED_PROXIES=1``, as behind Heroku's router);
* ``BENCH_WALK``: ``full`` (the issue's mix) or ``pages`` (no graph JSON, no export);
  ``BENCH_RAW=1``: the same steps on the raw reference app of ``loadtest.py``;
* ``BENCH_NETWORK``: the network page walked; ``BENCH_THINK``: seconds between requests.

Each user walks the steps in order, one request per step, waiting ``BENCH_THINK`` seconds
between requests. A redirect counts as a failure (a lost session would redirect to sign-in).
"""

from __future__ import annotations

import itertools
import json
import os

from loadtest import raw_walk, walks
from locust import FastHttpUser, constant, task

STEPS = walks(os.environ.get("BENCH_NETWORK", "bluesky"))[os.environ.get("BENCH_WALK", "full")]
if os.environ.get("BENCH_RAW"):
    STEPS = raw_walk(STEPS)


def _sessions() -> list[dict[str, str]]:
    path = os.environ.get("BENCH_SESSIONS")
    if not path:
        return [{"cookie": "", "ip": "10.77.0.1"}]
    with open(path, encoding="utf-8") as file:
        return list(json.load(file))


SESSIONS = _sessions()
_numbers = itertools.count()


class Walker(FastHttpUser):
    """One signed-in person walking :data:`STEPS` over and over."""

    wait_time = constant(float(os.environ.get("BENCH_THINK", "0")))

    def on_start(self) -> None:
        number = next(_numbers)
        chosen = SESSIONS[number % len(SESSIONS)]
        self.headers = {"X-Forwarded-For": chosen["ip"]}
        if chosen["cookie"]:
            self.headers["Cookie"] = chosen["cookie"]
        self.step = number % len(STEPS)  # users start at different steps

    @task
    def next_page(self) -> None:
        kind, path = STEPS[self.step]
        self.step = (self.step + 1) % len(STEPS)
        with self.client.get(
            path, headers=self.headers, name=kind, allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code} for {path}")

"""A bare TCP listener that records every connection made to it: the target an SSRF test
must prove is never reached (a Redis or a database port on the same machine, say).

    with Listener() as port_5901:
        ...  # make the app try to reach it
        assert port_5901.connections == 0
"""

from __future__ import annotations

import select
import socket
import threading
from typing import Any


class Listener:
    """Listens on ``host`` (``127.0.0.1`` or ``::1``) on a free port; every connection is
    counted and closed at once, without a byte sent.

    Reading :attr:`connections` first accepts whatever waits in the backlog, so a connection
    the kernel completed a moment ago is counted too.
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.host = host
        self._sock = socket.socket(family, socket.SOCK_STREAM)
        self._sock.bind((host, 0))
        self._sock.listen(16)
        self._sock.setblocking(False)
        self._count = 0
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def port(self) -> int:
        return int(self._sock.getsockname()[1])

    @property
    def netloc(self) -> str:
        """``host:port`` as written in a URL (IPv6 in brackets)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def connections(self) -> int:
        """How many connections reached the listener so far."""
        self._accept_waiting()
        return self._count

    def _accept_waiting(self) -> None:
        with self._lock:
            while select.select([self._sock], [], [], 0)[0]:
                try:
                    conn, _ = self._sock.accept()
                except BlockingIOError:  # pragma: no cover - gone between select and accept
                    return
                self._count += 1
                conn.close()

    def _serve(self) -> None:
        while not self._stopped.is_set():
            if select.select([self._sock], [], [], 0.02)[0]:
                self._accept_waiting()

    def start(self) -> Listener:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=5)
        self._sock.close()

    def __enter__(self) -> Listener:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

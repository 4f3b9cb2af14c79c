"""First frame of a big followers graph in headless Chromium with software WebGL.

Builds the followers graph of a synthetic Bluesky-shaped account with ``--people``
followers (``app.demo.synthetic.make_account``) through the analyzer, exactly as a sync
stores it (``analyse_graphs``: communities, PageRank and settled positions), turns it into
what the graph JSON route sends (``app.dashboard.service.drawable``: the owner's star of
edges left out), and serves a harness page with the built bundle (``app/static/dist/
graph.js``), the viewer markup of the network page and the app's Content-Security-Policy.
Debian's Chromium opens it through Playwright with WebGL on SwiftShader (the CPU) and the
script reads the viewer's own timings (``window.mdGraph.viewers[0].timings``):

* first frame: script start to the first committed frame (the nodes at their stored,
  settled positions);
* edges frame: script start to the committed frame with the edges too;
* fetch + parse and graph building.

``--no-positions`` strips the stored positions, for the old path (seeded start, then
ForceAtlas2 in the browser until its time limit). Median of ``--repeat`` page loads.

Run: ``.venv/bin/python benchmarks/graph_frame_bench.py --people 10000``
(needs ``/usr/bin/chromium``: ``make chromium``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--use-angle=swiftshader",
    "--use-gl=angle",
    "--enable-unsafe-swiftshader",
    "--ignore-gpu-blocklist",
    "--disable-background-networking",
]

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Graph frame benchmark</title>
<link rel="stylesheet" href="/static/vendor/bootstrap-5.3.9/bootstrap.min.css">
<link rel="stylesheet" href="/static/css/graph.css"><link rel="icon" href="data:,"></head>
<body><main class="container-fluid py-3">
<div class="graph-viewer" data-graph-url="/bench/graph.json" data-graph-name="followers">
  <div class="graph-toolbar d-flex flex-wrap gap-2 mb-2">
    <input type="search" class="form-control graph-search w-auto" placeholder="Find a person">
    <select class="form-select graph-size w-auto" aria-label="Node size">
      <option value="size">Size</option></select>
    <button class="btn btn-outline-secondary graph-reset" type="button">Reset view</button>
    <span class="graph-status small text-muted align-self-center"></span>
  </div>
  <div class="graph-canvas"></div>
  <div class="graph-legend small mt-2"></div>
</div></main>
<script src="/static/dist/graph.js"></script></body></html>
"""


def graph_json(people: int, positions: bool) -> tuple[bytes, float]:
    """The graph route's JSON for a synthetic account, and the analyzer's seconds."""
    from app.analysis.graph import analyse_graphs
    from app.dashboard.service import drawable
    from app.demo.synthetic import make_account

    data = make_account("bluesky", people, friends=0, posts=0, seed=1)
    start = time.perf_counter()
    section = analyse_graphs(data, max_people=people)["followers"]
    seconds = time.perf_counter() - start
    graph = section["graph"]
    if not positions:
        graph = {
            **graph,
            "nodes": [{k: v for k, v in n.items() if k not in "xy"} for n in graph["nodes"]],
        }
    body = drawable(graph, covered=section["covered"], total=section["total"])
    return json.dumps(body).encode(), seconds


def serve(body: bytes) -> ThreadingHTTPServer:
    from app.app import CONTENT_SECURITY_POLICY as CSP  # the policy the app sends

    class Handler(SimpleHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def end_headers(self) -> None:
            self.send_header("Content-Security-Policy", CSP)
            self.send_header("Cache-Control", "no-store")
            super().end_headers()

        def do_GET(self) -> None:
            if self.path.startswith("/bench/graph.json"):
                return self._send(body, "application/json")
            if self.path.startswith("/bench/graph.html"):
                return self._send(PAGE.encode(), "text/html; charset=utf-8")
            if not self.path.startswith("/static/"):
                self.send_error(404)
                return None
            self.path = self.path.removeprefix("/static")
            return super().do_GET()

        def _send(self, payload: bytes, kind: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    handler = partial(Handler, directory=str(ROOT / "app" / "static"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-positions", action="store_true")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    body, analysed = graph_json(args.people, not args.no_positions)
    server = serve(body)
    url = f"http://127.0.0.1:{server.server_port}/bench/graph.html"
    runs: list[dict[str, Any]] = []
    errors: list[str] = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
            for attempt in range(args.repeat):
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.on("console", lambda m: m.type == "error" and errors.append(m.text))
                page.goto(f"{url}?load={attempt}")
                runs.append(
                    page.evaluate(
                        """async () => {
                            const viewer = window.mdGraph.viewers[0];
                            await viewer.ready;
                            await viewer.layoutDone;
                            const gl = document.createElement("canvas").getContext("webgl2");
                            const info = gl && gl.getExtension("WEBGL_debug_renderer_info");
                            const gpu = info && gl.getParameter(info.UNMASKED_RENDERER_WEBGL);
                            return {...viewer.timings, nodes: viewer.graph.order,
                                    links: viewer.graph.size, gpu: gpu || "?",
                                    status: viewer.statusEl.textContent};
                        }"""
                    )
                )
                page.close()
            browser.close()
    finally:
        server.shutdown()
    if errors:
        print("console errors:", *errors, sep="\n  ")

    def median(key: str) -> str:
        values = [run[key] for run in runs if isinstance(run.get(key), int | float)]
        return f"{statistics.median(values):6.0f} ms" if values else "     n/a"

    last = runs[-1]
    print(
        f"{last['nodes']:,} people, {last['links']:,} links drawn; JSON {len(body) / 1e6:.1f} MB;"
        f" analyse_graphs (followers only) {analysed:.1f} s; WebGL: {last['gpu']}"
    )
    print(f"status: {last['status']}")
    stored = "stored positions" if last.get("storedPositions") else "no stored positions"
    print(f"median of {len(runs)} loads ({stored}):")
    print(f"  fetch + parse JSON        {median('fetchMs')}")
    print(f"  build graph               {median('buildMs')}")
    print(f"  create renderer           {median('rendererMs')}")
    print(f"  first animation frame     {median('frame1Ms')}")
    print(f"  first frame (nodes)       {median('firstFrameMs')}  (script start -> committed)")
    print(f"  frame with edges          {median('edgesFrameMs')}")
    if not last.get("storedPositions"):
        print(f"  ForceAtlas2 in browser    {median('layoutMs')}  stop: {last.get('layoutStop')}")
    first = [run["firstFrameMs"] for run in runs]
    print(f"  first frame max           {max(first):6.0f} ms")


if __name__ == "__main__":
    main()

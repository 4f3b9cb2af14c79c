// Tiny static server for the demo pages, sending the app's CSP header.
//   node demo/serve.mjs [port]   ->  http://127.0.0.1:8765/demo/graph.html
// /static/* -> app/static, /demo/* -> frontend/demo,
// /demo/data/graph.json?n=10000&m=60000&seed=1 -> generated node-link graph.
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { generateGraph } from "./gen-graph.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const roots = { "/static/": path.resolve(here, "../../app/static"), "/demo/": here };
export const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: https:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'self'",
  "frame-ancestors 'none'",
].join("; ");
const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css", ".json": "application/json", ".svg": "image/svg+xml", ".txt": "text/plain; charset=utf-8" };
const cache = new Map();

export function startServer(port = 8765) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://x");
    const send = (code, type, body) => {
      res.writeHead(code, { "Content-Type": type, "Content-Security-Policy": CSP, "Cache-Control": "no-store" });
      res.end(body);
    };
    if (url.pathname === "/demo/data/graph.json") {
      const n = Math.min(50000, Number(url.searchParams.get("n") || 1000));
      const m = Math.min(400000, Number(url.searchParams.get("m") || n * 6));
      const seed = Number(url.searchParams.get("seed") || 1);
      const key = `${n}/${m}/${seed}`;
      if (!cache.has(key)) cache.set(key, JSON.stringify(generateGraph({ n, m, seed })));
      return send(200, "application/json", cache.get(key));
    }
    if (url.pathname === "/demo/data/empty.json") {
      return send(200, "application/json", JSON.stringify({ nodes: [], links: [], covered: 0, total: 0 }));
    }
    for (const [prefix, root] of Object.entries(roots)) {
      if (!url.pathname.startsWith(prefix)) continue;
      const file = path.resolve(root, "." + url.pathname.slice(prefix.length - 1));
      if (!file.startsWith(root)) break;
      try {
        const body = fs.readFileSync(file);
        return send(200, TYPES[path.extname(file)] || "application/octet-stream", body);
      } catch {
        break;
      }
    }
    send(404, "text/plain", "not found");
  });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const port = Number(process.argv[2] || 8765);
  startServer(port).then(() => console.log(`http://127.0.0.1:${port}/demo/graph.html`));
}

/*
 * MD Analytics graph viewer: sigma.js v3 (WebGL) + graphology.
 *
 * Positions normally come with the graph (computed and settled at sync time), so the first
 * frame is the final picture. Graphs without them (older snapshots) are seeded and laid out
 * by ForceAtlas2 in a web worker; an optional `.graph-refine` button runs it on demand.
 *
 * Markup contract (server-rendered, no inline script/style):
 *   <div class="graph-viewer" data-graph-url="/…/graph/followers.json" data-graph-name="followers">
 *     <div class="graph-toolbar">
 *       <input type="search" class="form-control graph-search" placeholder="Find a person">
 *       <select class="form-select graph-size">…</select>
 *       <button type="button" class="btn graph-reset">Reset view</button>
 *       <button type="button" class="btn graph-refine">Refine layout</button>   (optional)
 *       <span class="graph-status" role="status"></span>
 *     </div>
 *     <div class="graph-canvas"></div>
 *     <div class="graph-legend"></div>
 *   </div>
 *
 * Exposes window.mdGraph = { viewers: [Viewer…] } for browser tests.
 */
import Graph from "graphology";
import Sigma from "sigma";
import forceAtlas2 from "graphology-layout-forceatlas2";
import FA2Layout from "graphology-layout-forceatlas2/worker";

const T0 = typeof performance !== "undefined" ? performance.now() : 0;

// Colour-blind-friendly categorical palette (Okabe–Ito + Paul Tol "muted").
export const PALETTE = [
  "#0072B2", // blue
  "#E69F00", // orange
  "#009E73", // bluish green
  "#CC79A7", // reddish purple
  "#56B4E9", // sky blue
  "#D55E00", // vermillion
  "#882255", // wine
  "#44AA99", // teal
  "#999933", // olive
  "#AA4499", // purple
  "#DDCC77", // sand
  "#332288", // indigo
];
const COLOR_NONE = "#c4c4c4"; // community -1 / no community
const COLOR_OTHER = "#8f8f8f"; // communities beyond the palette
const COLOR_ME = "#212529"; // account owner (Bootstrap dark)
const COLOR_DIM = "#ececec";
// Opaque light greys: thin translucent edges all but vanish after anti-aliasing.
const edgeColor = (m) => (m > 20000 ? "#dcdcdc" : m > 3000 ? "#d0d0d0" : "#bdbdbd");
const EDGE_COLOR_FOCUS = "#8a8a8a";

const REDUCED_MOTION =
  typeof window !== "undefined" &&
  window.matchMedia &&
  window.matchMedia("(prefers-reduced-motion: reduce)").matches;

const nf = new Intl.NumberFormat();

// ---------------------------------------------------------------- helpers

function hashString(s) {
  // FNV-1a, 32 bit
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function mulberry32(seed) {
  let a = seed >>> 0;
  return function () {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normLabel(s) {
  return String(s || "")
    .trim()
    .toLowerCase()
    .replace(/^@/, "");
}

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function isVisible(elem) {
  return !!(elem && elem.offsetWidth > 0 && elem.offsetHeight > 0 && elem.getClientRects().length);
}

function deferred() {
  let resolve, reject;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function nextFrame() {
  return new Promise((res) => requestAnimationFrame(() => res()));
}

// ---------------------------------------------------------------- graph building

const finite = (v) => typeof v === "number" && isFinite(v);

/**
 * Build a graphology graph from the node-link JSON. Returns {graph, communities, positioned}:
 * `positioned` when every node came with finite x/y (stored at sync time), which are kept;
 * otherwise the nodes get deterministic seed positions for ForceAtlas2.
 */
export function buildGraph(data, { links: withLinks = true } = {}) {
  const graph = new Graph({ type: "directed", multi: false, allowSelfLoops: false });
  const nodes = Array.isArray(data && data.nodes) ? data.nodes : [];
  let positioned = nodes.length > 0;

  for (const n of nodes) {
    if (n == null || n.id == null) continue;
    const id = String(n.id);
    if (graph.hasNode(id)) continue;
    const community = Number.isInteger(n.community) ? n.community : -1;
    const stored = finite(n.x) && finite(n.y);
    if (!stored) positioned = false;
    graph.addNode(id, {
      label: n.label != null ? String(n.label) : id,
      me: !!n.me,
      community,
      pagerank: typeof n.pagerank === "number" && isFinite(n.pagerank) ? n.pagerank : 0,
      rawSize: typeof n.size === "number" && isFinite(n.size) ? n.size : 0,
      x: stored ? n.x : 0,
      y: stored ? n.y : 0,
      size: 3,
      color: COLOR_NONE,
    });
  }
  if (withLinks) addLinks(graph, data);

  // Rank communities by member count (the owner and -1 excluded).
  const counts = new Map();
  graph.forEachNode((_, a) => {
    if (a.me || a.community < 0) return;
    counts.set(a.community, (counts.get(a.community) || 0) + 1);
  });
  const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  const communities = new Map(); // id -> {id, rank, count, color}
  ranked.forEach(([id, count], rank) => {
    communities.set(id, {
      id,
      rank,
      count,
      color: rank < PALETTE.length ? PALETTE[rank] : COLOR_OTHER,
    });
  });

  graph.updateEachNodeAttributes((node, a) => {
    if (a.me) a.color = COLOR_ME;
    else if (a.community >= 0 && communities.has(a.community)) a.color = communities.get(a.community).color;
    else a.color = COLOR_NONE;
    return a;
  });

  if (!positioned) seedPositions(graph, communities);
  return { graph, communities, positioned };
}

/** The links of the node-link JSON: duplicates, self-loops and unknown ends dropped. */
export function linksOf(data) {
  return Array.isArray(data && data.links) ? data.links : Array.isArray(data && data.edges) ? data.edges : [];
}

/** Add the JSON's links to a graph built by buildGraph(data, {links: false}). */
export function addLinks(graph, data) {
  for (const l of linksOf(data)) {
    if (l == null) continue;
    const s = String(l.source),
      t = String(l.target);
    if (s === t || !graph.hasNode(s) || !graph.hasNode(t)) continue;
    if (graph.hasDirectedEdge(s, t)) continue;
    graph.addDirectedEdge(s, t, { size: 1 });
  }
}

/**
 * Deterministic initial positions: each community gets a disc on a big circle
 * (angle share ∝ size), members scattered inside with a PRNG seeded by node id.
 * The owner sits at the centre.
 */
function seedPositions(graph, communities) {
  const groups = new Map(); // key -> [nodes]
  graph.forEachNode((node, a) => {
    if (a.me) return;
    const key = a.community >= 0 ? a.community : -1;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(node);
  });
  const keys = [...groups.keys()].sort((a, b) => {
    const ra = a < 0 ? Infinity : communities.get(a).rank;
    const rb = b < 0 ? Infinity : communities.get(b).rank;
    return ra - rb;
  });
  const total = graph.order || 1;
  const R = Math.sqrt(total) * 4; // big circle radius
  let angle = 0;
  for (const key of keys) {
    const members = groups.get(key);
    const share = members.length / total;
    const mid = angle + share * Math.PI;
    angle += share * 2 * Math.PI;
    const cx = key < 0 && keys.length > 1 ? 0 : R * Math.cos(mid);
    const cy = key < 0 && keys.length > 1 ? 0 : R * Math.sin(mid);
    const r = Math.sqrt(members.length) * 2 + 1;
    for (const node of members) {
      const rnd = mulberry32(hashString(node));
      const t = rnd() * 2 * Math.PI;
      const d = Math.sqrt(rnd()) * (key < 0 && keys.length > 1 ? R * 1.3 : r);
      graph.mergeNodeAttributes(node, { x: cx + d * Math.cos(t), y: cy + d * Math.sin(t) });
    }
  }
  graph.forEachNode((node, a) => {
    if (a.me) graph.mergeNodeAttributes(node, { x: 0, y: 0 });
  });
}

/** Compute pixel sizes for a mode ("size" | "pagerank" | "degree"). */
export function applySizes(graph, mode) {
  const order = graph.order;
  const minS = order > 5000 ? 1.5 : order > 1000 ? 2 : 3;
  const maxS = order > 5000 ? 11 : order > 1000 ? 13 : 16;
  const metric = (node, a) =>
    mode === "pagerank" ? a.pagerank : mode === "degree" ? graph.degree(node) : a.rawSize || a.pagerank;
  let lo = Infinity,
    hi = -Infinity;
  graph.forEachNode((node, a) => {
    if (a.me) return;
    const v = Math.sqrt(Math.max(0, metric(node, a)));
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  });
  const span = hi - lo;
  graph.updateEachNodeAttributes(
    (node, a) => {
      if (a.me) {
        a.size = maxS + 5;
      } else {
        const v = Math.sqrt(Math.max(0, metric(node, a)));
        a.size = span > 0 ? minS + ((v - lo) / span) * (maxS - minS) : (minS + maxS) / 3;
      }
      return a;
    },
    { attributes: ["size"] }
  );
}

// ---------------------------------------------------------------- hover renderer

function makeHoverRenderer(viewer) {
  return function drawHover(context, data, settings) {
    const attrs = viewer.graph.getNodeAttributes(data.key);
    const title = attrs.label || data.key;
    const sub = viewer.communityText(attrs);
    const size = settings.labelSize;
    const font = settings.labelFont;
    const PAD = 4;

    context.font = `600 ${size}px ${font}`;
    const w1 = context.measureText(title).width;
    context.font = `normal ${size - 2}px ${font}`;
    const w2 = context.measureText(sub).width;
    const boxW = Math.round(Math.max(w1, w2) + 2 * PAD);
    const boxH = Math.round(size * 2 + 3 * PAD);
    const r = Math.max(data.size, 4) + 2;
    const x0 = data.x + r + 2;
    const y0 = data.y - boxH / 2;

    context.save();
    context.fillStyle = "#fff";
    context.shadowOffsetX = 0;
    context.shadowOffsetY = 1;
    context.shadowBlur = 6;
    context.shadowColor = "rgba(0,0,0,0.35)";
    context.beginPath();
    context.arc(data.x, data.y, r, 0, Math.PI * 2);
    context.closePath();
    context.fill();
    context.fillRect(x0, y0, boxW, boxH);
    context.shadowBlur = 0;
    context.shadowOffsetY = 0;
    context.fillRect(data.x, y0 + 2, r + 3, boxH - 4);

    context.fillStyle = data.color || attrs.color;
    context.beginPath();
    context.arc(data.x, data.y, Math.max(data.size, 2), 0, Math.PI * 2);
    context.closePath();
    context.fill();

    context.fillStyle = "#212529";
    context.font = `600 ${size}px ${font}`;
    context.fillText(title, x0 + PAD, y0 + PAD + size * 0.85);
    context.fillStyle = "#5c636a";
    context.font = `normal ${size - 2}px ${font}`;
    context.fillText(sub, x0 + PAD, y0 + 2 * PAD + size * 1.85);
    context.restore();
  };
}

// ---------------------------------------------------------------- viewer

class Viewer {
  constructor(root) {
    this.root = root;
    this.name = root.dataset.graphName || "";
    this.url = root.dataset.graphUrl || "";
    this.canvasEl = root.querySelector(".graph-canvas");
    this.searchEl = root.querySelector(".graph-search");
    this.sizeEl = root.querySelector(".graph-size");
    this.resetEl = root.querySelector(".graph-reset");
    this.refineEl = root.querySelector(".graph-refine");
    this.statusEl = root.querySelector(".graph-status");
    this.legendEl = root.querySelector(".graph-legend");

    this.graph = null;
    this.renderer = null;
    this.layout = null;
    this.communities = new Map();
    this.labelIndex = []; // [{node, key, label, pr}]
    this.state = { node: null, neighbours: null, community: null };
    this.timings = {};
    this.error = null;
    this.started = false;
    this.layoutRunning = false;

    const ready = deferred();
    this.ready = ready.promise;
    this._ready = ready;
    const laid = deferred();
    this.layoutDone = laid.promise;
    this._laid = laid;
    // Never leave unhandled rejections around in tests.
    this.ready.catch(() => {});
    this.layoutDone.catch(() => {});

    if (this.statusEl && !this.statusEl.hasAttribute("role")) this.statusEl.setAttribute("role", "status");
    if (this.canvasEl) {
      this.canvasEl.setAttribute("role", this.canvasEl.getAttribute("role") || "img");
      if (!this.canvasEl.hasAttribute("aria-label"))
        this.canvasEl.setAttribute("aria-label", `Network graph${this.name ? " of " + this.name : ""}`);
    }
  }

  setStatus(text, isError) {
    if (!this.statusEl) return;
    this.statusEl.textContent = text;
    this.statusEl.classList.toggle("text-danger", !!isError);
  }

  communityText(attrs) {
    if (attrs.me) return "You";
    const c = attrs.community >= 0 ? this.communities.get(attrs.community) : null;
    if (!c) return "No community";
    return `Community ${c.rank + 1} · ${nf.format(c.count)} people`;
  }

  /** Start (once) when the container is visible. */
  start() {
    if (this.started) return;
    if (!isVisible(this.canvasEl)) return;
    this.started = true;
    this._run().catch((err) => {
      this.error = err;
      this.setStatus(`Could not load the graph: ${err && err.message ? err.message : err}`, true);
      this._ready.reject(err);
      this._laid.reject(err);
    });
  }

  async _run() {
    const t0 = performance.now();
    this.setStatus("Loading…");
    let data;
    try {
      const resp = await fetch(this.url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!resp.ok) throw new Error(`HTTP ${resp.status}`);
      data = await resp.json();
    } catch (e) {
      throw new Error(e && e.message ? e.message : "network error");
    }
    const t1 = performance.now();
    this.timings.fetchMs = t1 - t0;

    // Stored positions and many links: the first frame is drawn from the nodes alone (that is
    // the settled picture); the links are added right after it. On a software rasteriser
    // a frame with tens of thousands of edges costs seconds.
    const linkCount = linksOf(data).length;
    const deferLinks = linkCount > 3000 && Array.isArray(data.nodes) && data.nodes.every((n) => n && finite(n.x) && finite(n.y));
    const { graph, communities, positioned } = buildGraph(data, { links: !deferLinks });
    this.expectedLinks = linkCount;
    this.graph = graph;
    this.communities = communities;
    this.positioned = positioned;
    this.covered = data && data.covered;
    this.total = data && data.total;
    this.note = data && typeof data.note === "string" ? data.note : null;
    applySizes(graph, this.sizeEl ? this.sizeEl.value : "size");
    const t2 = performance.now();
    this.timings.buildMs = t2 - t1;

    this._bindControls();
    this._buildLegend();

    if (graph.order === 0) {
      this.setStatus("No people to draw yet");
      this.canvasEl.classList.add("graph-empty");
      this._ready.resolve(this);
      this._laid.resolve(this);
      return;
    }

    this._buildLabelIndex();
    this.layoutRunning = !positioned && graph.order > 1 && graph.size > 0;
    if (this.layoutRunning) this.setStatus("Laying out…");

    const tr = performance.now();
    try {
      this._createRenderer();
    } catch (e) {
      this.layoutRunning = false;
      throw new Error(`this browser cannot draw it (WebGL unavailable: ${e && e.message ? e.message : e})`);
    }
    this.timings.rendererMs = performance.now() - tr;
    // Two frames: the second callback runs once the first frame has been committed.
    await nextFrame();
    this.timings.frame1Ms = performance.now() - T0;
    await nextFrame();
    const t3 = performance.now();
    this.timings.renderMs = t3 - t2;
    this.timings.firstFrameMs = t3 - T0; // since script start
    this.timings.firstFrameSinceStartMs = t3 - t0;
    this.timings.storedPositions = positioned;
    this._ready.resolve(this);

    if (deferLinks) {
      const te = performance.now();
      this.renderer.unbindGraphHandlers(); // one refresh for all links, not one per link
      addLinks(graph, data);
      this.renderer.bindGraphHandlers();
      this.renderer.refresh();
      this.timings.linksMs = performance.now() - te;
      await nextFrame();
      await nextFrame();
      this.timings.edgesFrameMs = performance.now() - T0;
    }
    if (positioned) this._finishLayout("stored", 0);
    else this._startLayout();
  }

  _createRenderer() {
    const graph = this.graph;
    // Arrow heads double the edge fill cost; above 20k edges plain lines are used.
    // Links may be added after the first frame: size the settings by the links to come.
    const m = Math.max(graph.size, this.expectedLinks || 0);
    const manyEdges = m > 20000;
    // Big graphs draw nodes only while the layout runs (edges appear when it stops):
    // keeps the first frame and the layout animation fast on slow/software GPUs.
    this.hideEdgesDuringLayout = m > 3000;
    this.renderer = new Sigma(graph, this.canvasEl, {
      defaultEdgeType: manyEdges ? "line" : "arrow",
      defaultEdgeColor: edgeColor(m),
      minEdgeThickness: 0.8,
      renderEdgeLabels: false,
      hideEdgesOnMove: m > 20000,
      labelFont: 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif',
      labelSize: 12,
      labelWeight: "500",
      labelColor: { color: "#343a40" },
      labelDensity: 0.35,
      labelGridCellSize: 80,
      labelRenderedSizeThreshold: graph.order > 300 ? 9 : 6,
      zIndex: true,
      stagePadding: 20,
      minCameraRatio: 0.02,
      maxCameraRatio: 4,
      defaultDrawNodeHover: makeHoverRenderer(this),
      nodeReducer: (node, data) => this._nodeReducer(node, data),
      edgeReducer: (edge, data) => this._edgeReducer(edge, data),
    });
    this.renderer.on("clickNode", ({ node }) => this.focusNode(node));
    this.renderer.on("clickStage", () => {
      if (this.state.node || this.state.community !== null) this.clearHighlight();
    });

    if (typeof ResizeObserver !== "undefined") {
      this._ro = new ResizeObserver(() => this.refreshSize());
      this._ro.observe(this.canvasEl);
    }
  }

  _nodeReducer(node, data) {
    const st = this.state;
    const res = data.me ? { ...data, zIndex: 3, forceLabel: true } : { ...data };
    if (st.node) {
      if (node === st.node) {
        res.highlighted = true;
        res.forceLabel = true;
        res.zIndex = 4;
      } else if (st.neighbours.has(node)) {
        res.zIndex = 2;
      } else {
        res.color = COLOR_DIM;
        res.label = "";
        res.zIndex = 0;
        res.forceLabel = false;
      }
    } else if (st.community !== null) {
      if (this._inCommunity(data, st.community)) {
        res.zIndex = 2;
      } else {
        res.color = COLOR_DIM;
        res.label = "";
        res.zIndex = 0;
        res.forceLabel = false;
      }
    }
    return res;
  }

  _edgeReducer(edge, data) {
    const st = this.state;
    if (st.node) {
      const [s, t] = this.graph.extremities(edge);
      if (s === st.node || t === st.node) return { ...data, color: EDGE_COLOR_FOCUS, zIndex: 1, size: 1.2 };
      return { ...data, hidden: true };
    }
    if (st.community !== null) {
      const [s, t] = this.graph.extremities(edge);
      const g = this.graph;
      if (this._inCommunity(g.getNodeAttributes(s), st.community) && this._inCommunity(g.getNodeAttributes(t), st.community))
        return { ...data, color: EDGE_COLOR_FOCUS };
      return { ...data, hidden: true };
    }
    if (this.layoutRunning && this.hideEdgesDuringLayout) return { ...data, hidden: true };
    return data;
  }

  _inCommunity(attrs, key) {
    if (key === "me") return !!attrs.me;
    if (attrs.me) return false;
    if (key === "none") return !(attrs.community >= 0 && this.communities.has(attrs.community));
    if (key === "other") {
      const c = this.communities.get(attrs.community);
      return !!c && c.rank >= PALETTE.length;
    }
    return attrs.community === key;
  }

  /** Run ForceAtlas2 from the current positions (the `.graph-refine` button). */
  refine() {
    if (!this.graph || this.layoutRunning || this.graph.order < 2 || this.graph.size === 0) return false;
    this._layoutFinished = false;
    this._layoutStart = 0;
    const laid = deferred();
    this.layoutDone = laid.promise;
    this._laid = laid;
    this.layoutDone.catch(() => {});
    this._startLayout();
    return true;
  }

  _startLayout() {
    const graph = this.graph;
    const n = graph.order;
    if (n < 2 || graph.size === 0) {
      this._finishLayout("none");
      return;
    }
    this.layoutRunning = true;
    if (this.refineEl) this.refineEl.disabled = true;
    const settings = forceAtlas2.inferSettings(graph);
    settings.barnesHutOptimize = n > 2000;
    // Budget: 2 s for small graphs, up to 6 s for big ones.
    const budget = Math.min(6000, Math.max(2000, 1500 + n * 0.4));
    this.setStatus("Laying out…");
    const tStart = performance.now();
    this._layoutStart = tStart;

    // The worker runs on a structural copy of the graph, so its iteration rate
    // does not depend on how fast the renderer redraws; positions are copied to
    // the displayed graph on a timer adapted to the measured render time.
    const shadow = new Graph({ type: "directed", multi: false, allowSelfLoops: false });
    graph.forEachNode((node, a) => shadow.addNode(node, { x: a.x, y: a.y, size: a.size }));
    graph.forEachEdge((edge, a, s, t) => shadow.addDirectedEdgeWithKey(edge, s, t));
    this._shadow = shadow;
    let iterations = 0;
    shadow.on("eachNodeAttributesUpdated", () => iterations++);

    let renderMs = 16;
    let tRender = 0;
    const onBefore = () => (tRender = performance.now());
    const onAfter = () => (renderMs = 0.7 * renderMs + 0.3 * (performance.now() - tRender));
    this.renderer.on("beforeRender", onBefore);
    this.renderer.on("afterRender", onAfter);
    this._layoutListeners = [onBefore, onAfter];

    let prev = null;
    let prevIter = 0;
    let calm = 0;
    let due = 0;
    let interval = 150;
    const sync = () => {
      if (!this.layoutRunning) return;
      const late = Math.max(0, performance.now() - due);
      const xy = new Float64Array(n * 2);
      let i = 0,
        minX = Infinity,
        maxX = -Infinity;
      shadow.forEachNode((_, a) => {
        xy[i++] = a.x;
        xy[i++] = a.y;
        if (a.x < minX) minX = a.x;
        if (a.x > maxX) maxX = a.x;
      });
      const steps = iterations - prevIter;
      if (steps > 0) {
        if (prev) {
          // Convergence: mean displacement per iteration relative to the layout's extent.
          let move = 0;
          for (let j = 0; j < xy.length; j += 2) move += Math.abs(xy[j] - prev[j]) + Math.abs(xy[j + 1] - prev[j + 1]);
          const rel = move / n / steps / Math.max(1e-9, maxX - minX);
          calm = rel < 0.0003 ? calm + 1 : 0;
        }
        prev = xy;
        prevIter = iterations;
        let k = 0;
        graph.updateEachNodeAttributes(
          (_, a) => {
            a.x = xy[k++];
            a.y = xy[k++];
            return a;
          },
          { attributes: ["x", "y"] }
        );
      }
      const elapsed = performance.now() - tStart;
      if (elapsed > budget || (calm >= 3 && elapsed > 1000)) {
        this._finishLayout(calm >= 3 ? "converged" : "time", iterations);
        return;
      }
      // Leave the worker most of the wall time even when frames are expensive.
      interval = Math.min(2000, Math.max(120, renderMs * 3, late * 2, interval * 0.8));
      due = performance.now() + interval;
      this._layoutTimer = setTimeout(sync, interval);
    };
    try {
      this.layout = new FA2Layout(shadow, { settings });
      this.layout.start();
    } catch (e) {
      // No worker support: keep the seeded layout.
      this._finishLayout("unavailable", 0, e);
      return;
    }
    due = performance.now() + interval;
    this._layoutTimer = setTimeout(sync, interval);
  }

  _finishLayout(reason, iterations, err) {
    if (this._layoutFinished) return;
    this._layoutFinished = true;
    this.layoutRunning = false;
    if (this.refineEl) this.refineEl.disabled = !(this.graph && this.graph.order > 1 && this.graph.size > 0);
    clearTimeout(this._layoutTimer);
    if (this.layout) {
      this.layout.stop();
      this.layout.kill();
      this.layout = null;
    }
    if (this._shadow) {
      // Final positions.
      const shadow = this._shadow;
      this.graph.updateEachNodeAttributes(
        (node, a) => {
          const b = shadow.getNodeAttributes(node);
          a.x = b.x;
          a.y = b.y;
          return a;
        },
        { attributes: ["x", "y"] }
      );
      this._shadow = null;
    }
    if (this._layoutListeners && this.renderer) {
      this.renderer.off("beforeRender", this._layoutListeners[0]);
      this.renderer.off("afterRender", this._layoutListeners[1]);
    }
    if (this._layoutStart) this.timings.layoutMs = performance.now() - this._layoutStart;
    this.timings.layoutIterations = iterations || 0;
    this.timings.layoutStop = reason;
    if (err) this.timings.layoutError = String(err && err.message ? err.message : err);
    if (this.renderer && reason !== "stored") this.renderer.refresh();
    this._showState();
    this._laid.resolve(this);
  }

  /** After the layout: say (and show) what is selected, or the counts when nothing is. */
  _showState() {
    const s = this.state || {};
    if (s.node && this.graph.hasNode(s.node)) {
      this.focusNode(s.node); // the node has moved while the layout ran: follow it
    } else if (s.community !== null && s.community !== undefined) {
      const e = this._legendEntries && this._legendEntries.get(s.community);
      if (e) this.setStatus(e.count === null ? `Highlighted: ${e.text}` : `Highlighted: ${e.text} (${nf.format(e.count)} people)`);
      else this._showCounts();
    } else {
      this._showCounts();
    }
  }

  _showCounts() {
    const g = this.graph;
    let text = `${nf.format(g.order)} ${g.order === 1 ? "person" : "people"}, ${nf.format(g.size)} ${g.size === 1 ? "link" : "links"}`;
    if (this.note) {
      text += `. ${this.note}`;
    } else if (typeof this.covered === "number" && typeof this.total === "number" && this.covered < this.total) {
      text += ` (${nf.format(this.covered)} of ${nf.format(this.total)} people drawn)`;
    }
    this.setStatus(text);
  }

  _buildLabelIndex() {
    const idx = [];
    this.graph.forEachNode((node, a) => {
      idx.push({ node, key: normLabel(a.label), label: a.label, pr: a.pagerank });
    });
    idx.sort((a, b) => b.pr - a.pr);
    this.labelIndex = idx;
  }

  /** Find the best node for a query: exact label, then prefix, then substring (by PageRank). */
  findNode(query) {
    const q = normLabel(query);
    if (!q || !this.graph) return null;
    if (this.graph.hasNode(String(query))) return String(query);
    let prefix = null,
      sub = null;
    for (const e of this.labelIndex) {
      if (e.key === q) return e.node;
      if (!prefix && e.key.startsWith(q)) prefix = e.node;
      else if (!sub && e.key.includes(q)) sub = e.node;
    }
    return prefix || sub;
  }

  suggestions(query, limit = 12) {
    const q = normLabel(query);
    if (!q) return [];
    const out = [],
      rest = [];
    for (const e of this.labelIndex) {
      if (e.key.startsWith(q)) {
        out.push(e.label);
        if (out.length >= limit) break;
      } else if (rest.length < limit && e.key.includes(q)) rest.push(e.label);
    }
    return out.concat(rest).slice(0, limit);
  }

  /** Public: focus a node by label (or id). Returns the node id or null. */
  focus(label) {
    const node = this.findNode(label);
    if (!node) return null;
    this.focusNode(node);
    return node;
  }

  focusNode(node) {
    if (!this.graph || !this.graph.hasNode(node)) return;
    this.state = { node, neighbours: new Set(this.graph.neighbors(node)), community: null };
    this._markLegend(null);
    this.renderer.refresh({ skipIndexation: false });
    const d = this.renderer.getNodeDisplayData(node);
    if (d) {
      this.renderer
        .getCamera()
        .animate({ x: d.x, y: d.y, ratio: 0.3 }, { duration: REDUCED_MOTION ? 0 : 600 });
    }
    const a = this.graph.getNodeAttributes(node);
    if (!this.layoutRunning) {
      this.setStatus(`${a.label}: ${nf.format(this.graph.degree(node))} connections · ${this.communityText(a)}`);
    }
  }

  highlightCommunity(key) {
    if (!this.renderer) return;
    if (this.state.community === key) {
      this.clearHighlight();
      return;
    }
    this.state = { node: null, neighbours: null, community: key };
    this._markLegend(key);
    this.renderer.refresh();
    this.renderer.getCamera().animatedReset({ duration: REDUCED_MOTION ? 0 : 400 });
    const e = this._legendEntries && this._legendEntries.get(key);
    if (e && !this.layoutRunning) this.setStatus(e.count === null ? `Highlighted: ${e.text}` : `Highlighted: ${e.text} (${nf.format(e.count)} people)`);
  }

  clearHighlight() {
    this.state = { node: null, neighbours: null, community: null };
    this._markLegend(null);
    if (this.renderer) this.renderer.refresh();
    if (!this.layoutRunning && this.graph && this.graph.order) this._showCounts();
  }

  reset() {
    if (this.searchEl) this.searchEl.value = "";
    this.clearHighlight();
    if (this.renderer) this.renderer.getCamera().animatedReset({ duration: REDUCED_MOTION ? 0 : 400 });
  }

  refreshSize() {
    if (!this.renderer || !isVisible(this.canvasEl)) return;
    this.renderer.resize();
    this.renderer.refresh();
  }

  _bindControls() {
    if (this._bound) return;
    this._bound = true;
    const search = this.searchEl;
    if (search) {
      let list = search.list;
      if (!list) {
        list = document.createElement("datalist");
        list.id = `graph-search-list-${this.name || Math.random().toString(36).slice(2)}`;
        search.insertAdjacentElement("afterend", list);
        search.setAttribute("list", list.id);
      }
      this.datalist = list;
      search.setAttribute("autocomplete", "off");
      if (!search.hasAttribute("aria-label")) search.setAttribute("aria-label", "Find a person in the graph");
      const fill = () => {
        const items = this.suggestions(search.value);
        list.replaceChildren(
          ...items.map((label) => {
            const o = document.createElement("option");
            o.value = label;
            return o;
          })
        );
      };
      search.addEventListener("input", (ev) => {
        // A pick from the datalist arrives as an input event without inputType (or insertReplacementText).
        if (!ev.inputType || ev.inputType === "insertReplacementText") {
          const q = normLabel(search.value);
          const hit = this.labelIndex.find((e) => e.key === q);
          if (hit) {
            this.focusNode(hit.node);
            return;
          }
        }
        if (!search.value) {
          this.clearHighlight();
        }
        fill();
      });
      search.addEventListener("keydown", (ev) => {
        if (ev.key === "Enter") {
          ev.preventDefault();
          const node = this.findNode(search.value);
          if (node) this.focusNode(node);
          else if (search.value) this.setStatus(`No one called “${search.value}” in this graph`);
        } else if (ev.key === "Escape") {
          ev.preventDefault();
          this.reset();
        }
      });
      search.addEventListener("search", () => {
        // The native clear (×) button of type=search.
        if (!search.value) this.clearHighlight();
      });
    }
    if (this.sizeEl) {
      this.sizeEl.addEventListener("change", () => {
        if (!this.graph) return;
        applySizes(this.graph, this.sizeEl.value);
        if (this.renderer) this.renderer.refresh();
      });
    }
    if (this.resetEl) {
      if (!this.resetEl.hasAttribute("type")) this.resetEl.setAttribute("type", "button");
      this.resetEl.addEventListener("click", () => this.reset());
    }
    if (this.refineEl) {
      if (!this.refineEl.hasAttribute("type")) this.refineEl.setAttribute("type", "button");
      this.refineEl.disabled = true; // enabled once drawn
      this.refineEl.addEventListener("click", () => this.refine());
    }
  }

  _buildLegend() {
    const box = this.legendEl;
    if (!box) return;
    box.replaceChildren();
    if (!this.graph || this.graph.order === 0) return;
    let me = 0,
      none = 0,
      other = 0,
      otherCount = 0;
    this.graph.forEachNode((_, a) => {
      if (a.me) me++;
      else if (!(a.community >= 0 && this.communities.has(a.community))) none++;
    });
    for (const c of this.communities.values()) {
      if (c.rank >= PALETTE.length) {
        other += c.count;
        otherCount++;
      }
    }
    const entries = [];
    for (const c of this.communities.values()) {
      if (c.rank < PALETTE.length) entries.push({ key: c.id, color: c.color, text: `Community ${c.rank + 1}`, count: c.count });
    }
    entries.sort((a, b) => b.count - a.count);
    if (other) entries.push({ key: "other", color: COLOR_OTHER, text: `${otherCount} smaller communities`, count: other });
    if (me) entries.push({ key: "me", color: COLOR_ME, text: "You", count: null, me: true });
    if (none) entries.push({ key: "none", color: COLOR_NONE, text: "No community", count: none });

    const list = el("ul", "graph-legend-list list-unstyled");
    list.setAttribute("aria-label", "Communities (click to highlight)");
    this._legendButtons = new Map();
    this._legendEntries = new Map(entries.map((e) => [e.key, e]));
    for (const e of entries) {
      const li = el("li", "graph-legend-item");
      const btn = el("button", "graph-legend-btn");
      btn.type = "button";
      btn.setAttribute("aria-pressed", "false");
      const sw = el("span", "graph-legend-swatch" + (e.me ? " graph-legend-swatch-me" : ""));
      sw.style.backgroundColor = e.color; // CSSOM, allowed by style-src 'self'
      sw.setAttribute("aria-hidden", "true");
      btn.append(sw, el("span", "graph-legend-text", e.text));
      if (e.count !== null) btn.append(el("span", "graph-legend-count", nf.format(e.count)));
      btn.addEventListener("click", () => this.highlightCommunity(e.key));
      li.append(btn);
      list.append(li);
      this._legendButtons.set(e.key, btn);
    }
    box.append(list);
  }

  _markLegend(key) {
    if (!this._legendButtons) return;
    for (const [k, btn] of this._legendButtons) {
      const on = key !== null && k === key;
      btn.classList.toggle("active", on);
      btn.setAttribute("aria-pressed", on ? "true" : "false");
    }
  }
}

// ---------------------------------------------------------------- boot

const viewers = [];
const api = { viewers, version: "1", palette: PALETTE };
if (typeof window !== "undefined") window.mdGraph = api;

function checkAll() {
  for (const v of viewers) {
    if (!v.started) v.start();
    else v.refreshSize();
  }
}

function boot() {
  document.querySelectorAll(".graph-viewer").forEach((root) => {
    if (root._mdGraphViewer) return;
    const v = new Viewer(root);
    root._mdGraphViewer = v;
    viewers.push(v);
  });
  checkAll();
  // Lazy start for viewers that are hidden (e.g. inactive Bootstrap tab).
  if (typeof IntersectionObserver !== "undefined") {
    const io = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) checkAll();
    });
    viewers.forEach((v) => v.canvasEl && io.observe(v.canvasEl));
  }
  document.addEventListener("shown.bs.tab", checkAll);
  document.addEventListener("shown.bs.collapse", checkAll);
}

if (typeof document !== "undefined") {
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
  else boot();
}

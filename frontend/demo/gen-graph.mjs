// Deterministic synthetic "followers" graph in the app's node-link format.
// Communities with power-law sizes, ~85 % of links inside a community, every
// person follows the owner ("me").
function rng(seed) {
  let a = seed >>> 0 || 1;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const SYL = ["ka", "lo", "mi", "ra", "ne", "to", "zu", "vi", "an", "el", "or", "is", "ben", "sam", "jo", "li", "mar", "tea", "dev", "ux"];

export function generateGraph({ n = 1000, m = 6000, seed = 1, communities } = {}) {
  const r = rng(seed);
  const k = communities || Math.max(3, Math.min(18, Math.round(Math.log2(n) * 1.3)));
  // community weights ~ 1/rank^0.9
  const w = Array.from({ length: k }, (_, i) => 1 / Math.pow(i + 1, 0.9));
  const wsum = w.reduce((a, b) => a + b, 0);
  const nodes = [{ id: "0", label: "@me", me: true, community: -1, pagerank: 0, size: 0 }];
  const members = Array.from({ length: k }, () => []);
  const none = [];
  const used = new Set(["me"]);
  for (let i = 1; i < n; i++) {
    let c = -1;
    if (r() > 0.05) {
      let x = r() * wsum;
      c = 0;
      while (x > w[c] && c < k - 1) x -= w[c++];
    }
    let label;
    do {
      label = SYL[(r() * SYL.length) | 0] + SYL[(r() * SYL.length) | 0] + (r() < 0.6 ? "" : (r() * 1000) | 0);
    } while (used.has(label));
    used.add(label);
    nodes.push({ id: String(1000 + i), label: "@" + label, me: false, community: c, pagerank: 0, size: 0 });
    (c >= 0 ? members[c] : none).push(i);
  }
  const links = [];
  const seen = new Set();
  const add = (a, b) => {
    if (a === b) return false;
    const key = a * 1e6 + b;
    if (seen.has(key)) return false;
    seen.add(key);
    links.push([a, b]);
    return true;
  };
  for (let i = 1; i < n; i++) add(i, 0);
  // preferential-ish targets: pick with bias towards low index in the community
  const pick = (arr) => arr[Math.floor(Math.pow(r(), 1.8) * arr.length)];
  let guard = 0;
  while (links.length < m && guard++ < m * 20) {
    const a = 1 + Math.floor(r() * (n - 1));
    const ca = nodes[a].community;
    let b;
    if (ca >= 0 && r() < 0.85) b = pick(members[ca]);
    else b = 1 + Math.floor(Math.pow(r(), 1.5) * (n - 1));
    if (b !== undefined) add(a, b);
  }
  // pagerank-ish: normalised in-degree; size: blend
  const indeg = new Float64Array(n);
  for (const [, b] of links) indeg[b]++;
  let tot = 0;
  for (let i = 1; i < n; i++) tot += indeg[i] + 1;
  for (let i = 1; i < n; i++) {
    nodes[i].pagerank = +((indeg[i] + 1) / tot).toFixed(6);
    nodes[i].size = +(2 + Math.sqrt(indeg[i]) * 1.5).toFixed(2);
  }
  nodes[0].pagerank = +(indeg[0] / tot).toFixed(6);
  return {
    nodes,
    links: links.map(([a, b]) => ({ source: nodes[a].id, target: nodes[b].id })),
    covered: Math.round(n * 0.18),
    total: n,
  };
}

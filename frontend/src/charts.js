/*
 * MD Analytics charts: Chart.js v4, tree-shaken (bar + line only).
 *
 * Contract:
 *   <div class="chart-box"><canvas class="chart" data-chart="NAME" role="img" aria-label="…"></canvas></div>
 *   <script type="application/json" id="chart-NAME">{"type": "bar"|"line", "labels": […],
 *     "datasets": [{"label": "…", "data": [… null = gap …], "color": "positive"|"neutral"|"negative"|"primary"|"secondary",
 *                   "kind": "line"|"bar", "axis": "left"|"right"}],
 *     "options": {"stacked": false, "percent": false, "sparkline": false, "yLabel": "…", "yRightLabel": "…"}}</script>
 *
 * Exposes window.mdCharts = { charts: Map(name -> Chart), render(canvas), palette }.
 */
import {
  Chart,
  BarController,
  LineController,
  BarElement,
  LineElement,
  PointElement,
  CategoryScale,
  LinearScale,
  Tooltip,
  Legend,
} from "chart.js";

Chart.register(BarController, LineController, BarElement, LineElement, PointElement, CategoryScale, LinearScale, Tooltip, Legend);

export const COLORS = {
  positive: "#198754", // Bootstrap success green
  neutral: "#adb5bd", // Bootstrap gray-500
  negative: "#dc3545", // Bootstrap danger red
  primary: "#0d6efd", // Bootstrap primary blue
  secondary: "#6c757d", // Bootstrap secondary grey
};
// Fallback series colours (colour-blind friendly, same family as the graph palette).
const SERIES = ["#0d6efd", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#882255", "#44AA99", "#999933", "#AA4499"];

const REDUCED_MOTION = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;

const nf = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
const nfPct = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

function cssVar(name, fallback) {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

function alpha(hex, a) {
  const m = /^#?([0-9a-f]{6})$/i.exec(hex);
  if (!m) return hex;
  const n = parseInt(m[1], 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${a})`;
}

function resolveColor(ds, i) {
  if (ds.color && COLORS[ds.color]) return COLORS[ds.color];
  if (typeof ds.color === "string" && /^#[0-9a-f]{6}$/i.test(ds.color)) return ds.color;
  return SERIES[i % SERIES.length];
}

function applyDefaults() {
  Chart.defaults.font.family =
    cssVar("--bs-body-font-family", "") ||
    'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';
  Chart.defaults.font.size = 12;
  Chart.defaults.color = cssVar("--bs-secondary-color", "#6c757d");
  Chart.defaults.borderColor = cssVar("--bs-border-color-translucent", "rgba(0,0,0,0.1)");
  if (REDUCED_MOTION) Chart.defaults.animation = false;
}

/** Turn the JSON spec into a Chart.js config. */
export function buildConfig(spec) {
  const o = spec.options || {};
  const type = spec.type === "line" ? "line" : "bar";
  const spark = !!o.sparkline;
  const percent = !!o.percent;
  const stacked = !!o.stacked;
  let hasRight = false;

  const datasets = (spec.datasets || []).map((ds, i) => {
    const color = resolveColor(ds, i);
    const kind = ds.kind === "line" || ds.kind === "bar" ? ds.kind : type;
    const right = ds.axis === "right";
    if (right) hasRight = true;
    const out = {
      label: ds.label || "",
      data: (ds.data || []).map((v) => (v === null || v === undefined || Number.isNaN(v) ? null : v)),
      type: kind,
      yAxisID: right ? "y1" : "y",
      borderColor: color,
      backgroundColor: kind === "line" ? color : alpha(color, 0.85),
      hoverBackgroundColor: color,
    };
    if (kind === "line") {
      Object.assign(out, {
        borderWidth: spark ? 1.5 : 2,
        pointRadius: spark ? 0 : (spec.labels || []).length > 40 ? 0 : 2.5,
        pointHoverRadius: spark ? 0 : 4,
        pointBackgroundColor: color,
        tension: 0.25,
        spanGaps: false,
        fill: false,
        order: 0, // lines on top of bars
      });
      if (stacked && type === "line" && !right) out.stack = "s";
    } else {
      Object.assign(out, {
        borderWidth: 0,
        borderRadius: stacked ? 0 : 2,
        maxBarThickness: 48,
        order: 1,
      });
    }
    return out;
  });

  const fmtY = (v) => (percent ? `${nfPct.format(v)}%` : nf.format(v));

  const scales = {
    x: {
      display: !spark,
      stacked,
      grid: { display: false },
      ticks: { maxRotation: 0, autoSkip: true, autoSkipPadding: 12 },
    },
    y: {
      display: !spark,
      stacked,
      beginAtZero: true,
      ticks: { callback: fmtY, maxTicksLimit: 6 },
      title: { display: !!o.yLabel && !spark, text: o.yLabel || "" },
    },
  };
  if (percent && !spark) Object.assign(scales.y, { min: 0, max: 100 });
  if (spark && type === "line") scales.y.beginAtZero = false;
  if (hasRight) {
    scales.y1 = {
      display: !spark,
      position: "right",
      min: -1,
      max: 1,
      grid: { drawOnChartArea: false },
      ticks: { stepSize: 0.5, callback: (v) => nf.format(v) },
      title: { display: !!o.yRightLabel && !spark, text: o.yRightLabel || "" },
    };
  }

  const options = {
    responsive: true,
    maintainAspectRatio: false,
    animation: spark || REDUCED_MOTION ? false : { duration: 400 },
    normalized: true,
    interaction: { mode: "index", intersect: false },
    layout: { padding: spark ? 1 : 0 },
    scales,
    plugins: {
      legend: {
        display: !spark && datasets.length > 1,
        position: "bottom",
        labels: { boxWidth: 12, boxHeight: 12, sort: (a, b) => a.datasetIndex - b.datasetIndex },
      },
      tooltip: {
        enabled: !spark,
        callbacks: {
          label(ctx) {
            const v = ctx.parsed.y;
            if (v === null || v === undefined) return `${ctx.dataset.label}: –`;
            const isRight = ctx.dataset.yAxisID === "y1";
            const txt = percent && !isRight ? `${nfPct.format(v)}%` : nf.format(v);
            return ctx.dataset.label ? `${ctx.dataset.label}: ${txt}` : txt;
          },
        },
      },
    },
  };
  if (spark) {
    options.events = [];
    options.elements = { point: { radius: 0 } };
  }
  return { type, data: { labels: spec.labels || [], datasets }, options };
}

const charts = new Map();

function readSpec(name) {
  const block = document.getElementById(`chart-${name}`);
  if (!block) throw new Error(`no #chart-${name} data block`);
  return JSON.parse(block.textContent);
}

/** Create (or recreate) the chart for one canvas. */
export function render(canvas) {
  const name = canvas.dataset.chart;
  if (!name) return null;
  let spec;
  try {
    spec = readSpec(name);
  } catch (e) {
    console.warn(`mdCharts: ${name}: ${e.message}`);
    return null;
  }
  const existing = charts.get(name);
  if (existing) existing.destroy();
  const chart = new Chart(canvas, buildConfig(spec));
  charts.set(name, chart);
  return chart;
}

function initAll() {
  applyDefaults();
  document.querySelectorAll("canvas[data-chart]").forEach((c) => {
    if (!charts.has(c.dataset.chart)) render(c);
  });
  // Charts created inside hidden tabs: Chart.js' ResizeObserver picks up the
  // size change when shown; this is a belt-and-braces resize.
  const resizeVisible = () => charts.forEach((ch) => ch.canvas.offsetWidth && ch.resize());
  document.addEventListener("shown.bs.tab", resizeVisible);
  document.addEventListener("shown.bs.collapse", resizeVisible);
}

window.mdCharts = { charts, render, palette: COLORS, Chart };

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", initAll);
else initAll();

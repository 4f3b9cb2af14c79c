"""Graph layout at sync time: ForceAtlas2 in numpy, repulsion on a grid (particle-mesh).

The browser used to lay the graph out itself and, at 10,000 people, ran out of time after a
few iterations; now the sync computes settled positions once and stores them with the graph,
so the first frame already shows the final picture.

The model is ForceAtlas2 (Jacomy et al. 2014) as graphology's worker runs it: mass = degree
+ 1, linear attraction along edges, repulsion ``k_r * m_i * m_j / d``, strong gravity, and
graphology's per-node adaptive speed (swinging / traction). Only the repulsion is computed
differently: instead of Barnes-Hut, the masses are spread on a grid (cloud-in-cell), the
field is one FFT convolution with the ``1/d`` kernel, and pairs closer than one grid cell
get the exact force from a k-d tree. Each iteration is ``O(n + m + G^2 log G)``. Graphs of at
most :data:`EXACT_MAX` people sum the repulsion exactly over every pair, which is faster there
(a test checks the two agree).

Start: communities as discs on a circle (area by size, members scattered by a seeded
generator), so the run only has to settle, not untangle. Same input and seed, same output.

Warm start: a sync that has the previous snapshot's picture starts from it instead
(:func:`warm_start`): people drawn before keep their place, people new to the graph start
at the middle of their neighbours that have one (else at their seeded place), and the whole
is scaled so its forces balance. A graph that barely changed is then settled in a few
iterations instead of a hundred or more (20,000 people: 5 against 123). The picture is
taken only when it draws the new links better than the seeded start does
(:func:`_link_share`): after a big change of links it would take longer to settle than a
fresh start, so the seeded start is used. Either way the run ends under the same rule.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from scipy import fft
from scipy.spatial import cKDTree

#: Default seed of the starting positions.
LAYOUT_SEED = 7
#: ForceAtlas2 settings (graphology's ``inferSettings`` for big graphs).
SCALING_RATIO = 10.0
GRAVITY = 0.05
#: Stop when the mean displacement per iteration falls under this share of the extent.
SETTLED = 0.0005
#: Grid cells per side for the far-field repulsion.
GRID_CELLS = 128
#: Fewest iterations of a run from the seeded start, and of one from a warm start.
MIN_ITERATIONS = 20
WARM_MIN_ITERATIONS = 5

Array = NDArray[np.float64]


def _seed_positions(n: int, community: NDArray[np.int64], seed: int) -> Array:
    """Communities as discs on a big circle (share of the circle by size); the rest in the
    middle. Members are scattered uniformly in their disc."""
    rng = np.random.default_rng(seed)
    pos = np.zeros((n, 2))
    keys, counts = np.unique(community, return_counts=True)
    order = sorted(range(len(keys)), key=lambda i: (keys[i] < 0, -counts[i], keys[i]))
    radius = math.sqrt(n) * 4.0
    angle = 0.0
    for i in order:
        members = np.flatnonzero(community == keys[i])
        share = len(members) / n
        mid = angle + share * math.pi
        angle += share * 2 * math.pi
        loose = keys[i] < 0 and len(order) > 1
        centre = (0.0, 0.0) if loose else (radius * math.cos(mid), radius * math.sin(mid))
        disc = radius * 1.3 if loose else math.sqrt(len(members)) * 2.0 + 1.0
        theta = rng.random(len(members)) * 2 * math.pi
        dist = np.sqrt(rng.random(len(members))) * disc
        pos[members, 0] = centre[0] + dist * np.cos(theta)
        pos[members, 1] = centre[1] + dist * np.sin(theta)
    return pos


def _bounds(pos: Array) -> tuple[Array, Array]:
    """``pos.min(axis=0)`` and ``pos.max(axis=0)``, the same values taken column by column:
    numpy reduces an ``n x 2`` array along its rows some thirty times slower."""
    x, y = pos[:, 0], pos[:, 1]
    return np.array([x.min(), y.min()]), np.array([x.max(), y.max()])


class _Mesh:
    """The ``1/d`` repulsion kernel's FFT on a ``2G x 2G`` grid (unit cell size)."""

    def __init__(self, cells: int) -> None:
        self.cells = cells
        size = 2 * cells
        offsets = np.fft.fftfreq(size, 1.0 / size)  # 0, 1, ..., G-1, -G, ..., -1
        dx, dy = np.meshgrid(offsets, offsets, indexing="ij")
        r2 = dx * dx + dy * dy
        r2[0, 0] = 1.0
        kx, ky = dx / r2, dy / r2
        kx[0, 0] = ky[0, 0] = 0.0
        self.kx = fft.rfft2(kx)
        self.ky = fft.rfft2(ky)

    def field(self, pos: Array, mass: Array) -> tuple[Array, Array, float]:
        """The repulsion field ``sum_j m_j (x - x_j) / |x - x_j|^2`` at every node, and the
        cell size used."""
        g = self.cells
        low, high = _bounds(pos)
        span = float(max((high - low).max(), 1e-9))
        h = span / (g - 2)
        f = (pos - low) / h + 0.5
        i = np.floor(f).astype(np.int64)
        w = f - i
        ix, iy = i[:, 0], i[:, 1]
        wx, wy = w[:, 0], w[:, 1]
        corners = (
            (ix, iy, (1 - wx) * (1 - wy)),
            (ix + 1, iy, wx * (1 - wy)),
            (ix, iy + 1, (1 - wx) * wy),
            (ix + 1, iy + 1, wx * wy),
        )
        size = 2 * g
        grid = np.zeros(size * size)
        for cx, cy, cw in corners:
            grid += np.bincount(cx * size + cy, weights=mass * cw, minlength=size * size)
        rho = fft.rfft2(grid.reshape(size, size))
        ex = fft.irfft2(rho * self.kx, s=(size, size)).ravel()
        ey = fft.irfft2(rho * self.ky, s=(size, size)).ravel()
        fx = np.zeros(len(pos))
        fy = np.zeros(len(pos))
        for cx, cy, cw in corners:
            flat = cx * size + cy
            fx += ex[flat] * cw
            fy += ey[flat] * cw
        return fx / h, fy / h, h


def _near_field(pos: Array, mass: Array, h: float) -> tuple[Array, Array]:
    """Exact repulsion ``m_i m_j / d`` between pairs closer than ``h`` (the grid's blur)."""
    n = len(pos)
    fx = np.zeros(n)
    fy = np.zeros(n)
    pairs = cKDTree(pos).query_pairs(h, output_type="ndarray")
    if len(pairs) == 0:
        return fx, fy
    a, b = pairs[:, 0], pairs[:, 1]
    d = pos[a] - pos[b]
    # x*x + y*y: the same sum as (d * d).sum(axis=1), without numpy's slow two-column reduce.
    d2 = np.maximum(d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1], 1e-6 * h * h)
    # Less what the grid already gave at this distance (it is blurred to about 1/h).
    strength = np.maximum(1.0 / d2 - 1.0 / (h * h), 0.0)
    for axis, out in ((0, fx), (1, fy)):
        push = d[:, axis] * strength
        out += np.bincount(a, weights=push * mass[b], minlength=n)
        out -= np.bincount(b, weights=push * mass[a], minlength=n)
    return fx, fy


#: Up to this many nodes, repulsion is summed exactly over every pair (faster than the grid).
EXACT_MAX = 120


def _exact_field(pos: Array, mass: Array) -> tuple[Array, Array]:
    """The repulsion field ``sum_j m_j (x - x_j) / |x - x_j|^2`` summed over every pair."""
    d = pos[:, None, :] - pos[None, :, :]
    d2 = (d * d).sum(axis=2)
    extent = float(max((pos.max(axis=0) - pos.min(axis=0)).max(), 1e-9))
    d2 = np.maximum(d2, 1e-12 * extent * extent)
    np.fill_diagonal(d2, np.inf)
    weight = mass[None, :] / d2
    return (d[:, :, 0] * weight).sum(axis=1), (d[:, :, 1] * weight).sum(axis=1)


def _balanced_scale(
    pos: Array, src: NDArray[np.int64], dst: NDArray[np.int64], mass: Array
) -> float:
    """The factor ``s`` for which ``s * pos`` is in balance as a whole (virial:
    ``sum_i x_i . F_i = 0``, as it is when every force is zero).

    Per pair, repulsion ``k_r m_i m_j / d`` along ``d`` gives ``k_r m_i m_j`` whatever the
    scale; attraction ``-d`` gives ``-|d|^2`` per edge and gravity ``-g m_i |x_i|^2`` per node,
    both growing with ``s^2``. So ``s^2 = repulsion / (attraction + gravity)``.
    """
    centred = pos - pos.mean(axis=0)
    pull = centred[src] - centred[dst]
    drag = float((pull * pull).sum()) + GRAVITY * float(
        (mass * (centred * centred).sum(axis=1)).sum()
    )
    total = float(mass.sum())
    push = SCALING_RATIO * (total * total - float((mass * mass).sum())) / 2
    return math.sqrt(push / drag) if drag > 0 else 1.0


def _link_share(pos: Array, src: NDArray[np.int64], dst: NDArray[np.int64]) -> float:
    """How well ``pos`` draws these links: their mean squared length over the mean squared
    distance between any two nodes (``2 x`` the positions' variance). Near 0 when linked
    nodes sit together, about 1 when the links fall anywhere."""
    pull = pos[src] - pos[dst]
    spread = 2 * float(pos.var(axis=0).sum())
    return float((pull * pull).sum(axis=1).mean()) / spread if spread > 0 else math.inf


def warm_start(
    start: Array, edges: NDArray[np.int64], community: NDArray[np.int64], seed: int
) -> Array:
    """Starting positions from a previous picture: ``start`` holds each node's previous
    place, ``NaN`` for those without one.

    Placed people keep their place; someone new starts at the mean of their neighbours
    that have one (a few rounds, so a chain of new people follows its placed end), shifted
    by a seeded fraction of a typical link so that newcomers sharing neighbours do not
    coincide; anyone still unplaced starts at their seeded place shrunk to the previous
    picture's size. The whole is then scaled to balance its forces (:func:`_balanced_scale`),
    whatever unit the previous picture was stored in.
    """
    n = len(start)
    placed = np.asarray(np.isfinite(start).all(axis=1))
    pos = np.where(placed[:, None], start, 0.0)
    src, dst = edges[:, 0], edges[:, 1]
    both = placed[src] & placed[dst]
    reach = float(np.abs(pos[placed]).max()) if placed.any() else 1.0
    if both.any():
        link = float(np.median(np.hypot(*(pos[src[both]] - pos[dst[both]]).T)))
    else:
        link = reach / math.sqrt(n)
    known = placed.copy()
    for _ in range(3):
        into_dst = known[src] & ~known[dst]
        into_src = known[dst] & ~known[src]
        if not (into_dst.any() or into_src.any()):
            break
        targets = np.concatenate((dst[into_dst], src[into_src]))
        sources = np.concatenate((src[into_dst], dst[into_src]))
        count = np.bincount(targets, minlength=n)
        reached = count > 0
        for axis in (0, 1):
            total = np.bincount(targets, weights=pos[sources, axis], minlength=n)
            pos[reached, axis] = total[reached] / count[reached]
        known |= reached
    rng = np.random.default_rng(seed)
    fresh = known & ~placed
    pos[fresh] += rng.normal(scale=max(link, 1e-9) / 2, size=(int(fresh.sum()), 2))
    rest = ~known
    if rest.any():
        seeded = _seed_positions(n, community, seed)
        pos[rest] = seeded[rest] * (reach / max(float(np.abs(seeded).max()), 1e-9))
    degree = np.bincount(src, minlength=n) + np.bincount(dst, minlength=n)
    return pos * _balanced_scale(pos, src, dst, np.asarray(degree + 1, dtype=np.float64))


def force_layout(
    n: int,
    edges: NDArray[np.int64],
    community: NDArray[np.int64] | None = None,
    *,
    seed: int = LAYOUT_SEED,
    iterations: int | None = None,
    start: Array | None = None,
) -> tuple[Array, dict[str, float]]:
    """Positions of ``n`` nodes linked by ``edges`` (``m x 2`` node indices, undirected).

    :param community: a community number per node (``-1`` for none), for the start.
    :param seed: seed of the starting positions.
    :param iterations: most iterations; default ``min(300, 100 + n // 50)``. The run stops
        earlier once settled (mean move per iteration under :data:`SETTLED` of the extent).
    :param start: previous positions (``n x 2``, ``NaN`` for nodes without one) for a warm
        start (:func:`warm_start`), used when it draws ``edges`` better than the seeded
        communities do (:func:`_link_share`); ``None`` starts from the seeded communities.
    :returns: ``(positions n x 2, {"iterations", "movement", "warm"})``; ``movement`` is
        the last mean move per iteration relative to the layout's extent, ``warm`` whether
        the run started from ``start``.
    """
    if n == 0:
        return np.zeros((0, 2)), {"iterations": 0, "movement": 0.0, "warm": False}
    if community is None:
        community = np.full(n, -1, dtype=np.int64)
    if n == 1:
        return np.zeros((1, 2)), {"iterations": 0, "movement": 0.0, "warm": False}
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    if len(edges) == 0:
        # Nothing pulls anyone anywhere (a network without follows among people): an even
        # disc (a sunflower spiral), which is what the forces would end in, without running.
        golden = math.pi * (3 - math.sqrt(5))
        k = np.arange(n, dtype=np.float64)
        radius = np.sqrt(k + 0.5)
        return np.column_stack((radius * np.cos(k * golden), radius * np.sin(k * golden))), {
            "iterations": 0,
            "movement": 0.0,
            "warm": False,
        }
    src, dst = edges[:, 0], edges[:, 1]
    pos = _seed_positions(n, community, seed)
    least = MIN_ITERATIONS
    warm = False
    if start is not None:
        # The previous picture is kept only when it draws these links better than the seeded
        # start does: after a big change it would take longer to settle than a fresh start.
        candidate = warm_start(np.asarray(start, dtype=np.float64), edges, community, seed)
        if _link_share(candidate, src, dst) <= _link_share(pos, src, dst):
            pos, least, warm = candidate, WARM_MIN_ITERATIONS, True
    degree = np.bincount(src, minlength=n) + np.bincount(dst, minlength=n)
    mass: Array = np.asarray(degree + 1, dtype=np.float64)
    limit = iterations if iterations is not None else min(300, 100 + n // 50)
    mesh = _Mesh(GRID_CELLS if n > 2000 else 64) if n > EXACT_MAX else None
    slow_down = 1.0 + math.log(n)
    old = np.zeros((n, 2))
    convergence = np.ones(n)
    done = 0
    movement = 1.0
    for done in range(1, limit + 1):
        if n <= EXACT_MAX:
            ex, ey = _exact_field(pos, mass)
            nx_ = ny_ = np.zeros(n)
        else:
            assert mesh is not None
            ex, ey, h = mesh.field(pos, mass)
            nx_, ny_ = _near_field(pos, mass, h)
        force = np.empty((n, 2))
        force[:, 0] = SCALING_RATIO * mass * (ex + nx_)
        force[:, 1] = SCALING_RATIO * mass * (ey + ny_)
        if len(edges):
            pull = pos[src] - pos[dst]
            for axis in (0, 1):
                force[:, axis] -= np.bincount(src, weights=pull[:, axis], minlength=n)
                force[:, axis] += np.bincount(dst, weights=pull[:, axis], minlength=n)
        centre = pos.mean(axis=0)
        force -= GRAVITY * mass[:, None] * (pos - centre)
        # graphology's adaptive speed, per node.
        swinging = mass * np.hypot(*(old - force).T)
        traction = np.hypot(*(old + force).T) / 2
        root = 1 + np.sqrt(swinging)
        speed = convergence * np.log1p(traction) / root
        size2 = force[:, 0] * force[:, 0] + force[:, 1] * force[:, 1]
        convergence = np.minimum(1.0, np.sqrt(speed * size2 / root))
        step = force * (speed / slow_down)[:, None]
        pos += step
        old = force
        low, high = _bounds(pos)
        extent = float(max((high - low).max(), 1e-9))
        movement = float(np.hypot(*step.T).mean() / extent)
        if movement < SETTLED and done >= least:
            break
    pos -= pos.mean(axis=0)
    return pos, {"iterations": float(done), "movement": movement, "warm": warm}

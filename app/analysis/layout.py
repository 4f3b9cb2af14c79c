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
        low = pos.min(axis=0)
        span = float(max((pos.max(axis=0) - low).max(), 1e-9))
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
    d2 = np.maximum((d * d).sum(axis=1), 1e-6 * h * h)
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


def force_layout(
    n: int,
    edges: NDArray[np.int64],
    community: NDArray[np.int64] | None = None,
    *,
    seed: int = LAYOUT_SEED,
    iterations: int | None = None,
) -> tuple[Array, dict[str, float]]:
    """Positions of ``n`` nodes linked by ``edges`` (``m x 2`` node indices, undirected).

    :param community: a community number per node (``-1`` for none), for the start.
    :param seed: seed of the starting positions.
    :param iterations: most iterations; default ``min(300, 100 + n // 50)``. The run stops
        earlier once settled (mean move per iteration under :data:`SETTLED` of the extent).
    :returns: ``(positions n x 2, {"iterations", "movement"})``; ``movement`` is the last
        mean move per iteration relative to the layout's extent.
    """
    if n == 0:
        return np.zeros((0, 2)), {"iterations": 0, "movement": 0.0}
    if community is None:
        community = np.full(n, -1, dtype=np.int64)
    if n == 1:
        return np.zeros((1, 2)), {"iterations": 0, "movement": 0.0}
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
        }
    pos = _seed_positions(n, community, seed)
    src, dst = edges[:, 0], edges[:, 1]
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
        convergence = np.minimum(1.0, np.sqrt(speed * (force * force).sum(axis=1) / root))
        step = force * (speed / slow_down)[:, None]
        pos += step
        old = force
        extent = float(max((pos.max(axis=0) - pos.min(axis=0)).max(), 1e-9))
        movement = float(np.hypot(*step.T).mean() / extent)
        if movement < SETTLED and done >= 20:
            break
    pos -= pos.mean(axis=0)
    return pos, {"iterations": float(done), "movement": movement}

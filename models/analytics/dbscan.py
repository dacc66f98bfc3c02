"""Grid-accelerated DBSCAN with exactly the semantics and label order of scikit-learn's DBSCAN.

Points are hashed into square cells of side just under eps/√2, so any two points of one cell are
neighbours and a cell holding ``min_samples`` points is all core.  Only points in the 24 cells
around are compared, in vectorised chunks, nearest cells first and stopping per point once it is
decided.  Clusters are the connected components of cells holding core points; border points take
the lowest-numbered neighbouring cluster and clusters are numbered by their lowest point index,
which is the order in which sklearn expands them, so labels match sklearn's exactly.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from scipy.ndimage import correlate
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

#: Cell offsets (dx, dy) of the 5×5 neighbourhood without (0, 0), nearest first.
_OFFSETS = sorted(
    ((dx, dy) for dx in range(-2, 3) for dy in range(-2, 3) if (dx, dy) != (0, 0)),
    key=lambda o: (max(abs(o[0]) - 1, 0) ** 2 + max(abs(o[1]) - 1, 0) ** 2, abs(o[0]) + abs(o[1])),
)
#: One offset of each ± pair, for the symmetric cell-to-cell links.
_HALF_OFFSETS = [o for o in _OFFSETS if o > (0, 0)]
#: Most point pairs compared in one vectorised chunk (keeps temporaries small and cache-friendly).
_CHUNK = 1 << 18
#: Cell lookups use a dense key table when it has at most this many slots per point (plus a floor).
_TABLE_PER_POINT, _TABLE_FLOOR = 8, 1 << 22
#: A cell's 5×5 block is summed over the whole grid (one correlation) only when the grid has at most this many cells
#: per occupied one; else cell by cell. A correlation costs about the same at any occupancy (170-200 ms over a
#: 4.1M-cell grid), the cell-by-cell sums grow with the occupied cells: 23 ms for 38,000 (107 grid cells each), 95 ms
#: at 34, 213 ms at 16 (random cells, load ~2). A detection over the last 90 days of 1M incidents runs 100
#: background simulations on such grids with some 38,000 occupied cells: 14.3 s of block sums the one way, 2.4 s the
#: other.
_DENSE_PER_OCCUPIED = 24

Ranges = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


class _Cells:
    """Points sorted by grid cell (key ``ix * stride + iy``) with each occupied cell's start and size."""

    def __init__(self, key: np.ndarray, pts: np.ndarray, index: np.ndarray, stride: int, n_keys: int):
        """Index points (rows x, y, in-cell u, v) whose keys are sorted; keys stay below ``n_keys``."""
        self.pts, self.index, self.stride, self.n_keys = pts, index, stride, n_keys
        self.start = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if key.size else key
        self.key = key[self.start]
        self.size = np.diff(np.r_[self.start, key.size])
        self.cell_of = np.repeat(np.arange(self.key.size), self.size)
        self.table = None
        if n_keys <= _TABLE_PER_POINT * key.size + _TABLE_FLOOR:
            self.table = np.full(n_keys, -1, np.int64)
            self.table[self.key] = np.arange(self.key.size)

    @property
    def x(self) -> np.ndarray:
        """Sorted x coordinates."""
        return self.pts[0]

    @property
    def y(self) -> np.ndarray:
        """Sorted y coordinates."""
        return self.pts[1]

    def shift(self, dx: int, dy: int) -> int:
        """Key difference of a cell offset."""
        return dx * self.stride + dy

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """Position of each key among the occupied cells, -1 where unoccupied."""
        if self.table is not None:
            return self.table[keys]
        pos = np.searchsorted(self.key, keys)
        pos[pos == self.key.size] = 0
        return np.where(self.key[pos] == keys, pos, -1)

    def reach(self) -> np.ndarray:
        """Points in each cell's 5×5 block of cells: an upper bound on its points' neighbours."""
        if self.table is None or self.n_keys > _DENSE_PER_OCCUPIED * self.key.size:
            total = self.size.copy()
            for dx, dy in _OFFSETS:
                nb = self.lookup(self.key + self.shift(dx, dy))
                total[nb >= 0] += self.size[nb[nb >= 0]]
            return total
        dense = np.zeros(self.n_keys, np.int64)
        dense[self.key] = self.size
        box = correlate(dense.reshape(-1, self.stride), np.ones((5, 5), np.int64), mode="constant")
        return box.ravel()[self.key]

    def ranges(self, cells: np.ndarray) -> Ranges:
        """The point ranges of the given cells, as ``_hits`` takes them."""
        return self.x, self.y, self.start[cells], self.size[cells]

    def subset(self, keep: np.ndarray) -> _Cells:
        """The sorted points where ``keep`` holds, re-indexed by cell."""
        key = self.key[self.cell_of]
        return _Cells(key[keep], self.pts[:, keep], self.index[keep], self.stride, self.n_keys)


def _hits(a: Ranges, b: Ranges, eps2: float) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Yield (range-pair id, point of a, point of b) for all point pairs within eps, chunked.

    ``a`` and ``b`` are ``(x, y, start, length)``: coordinates, then per pair the ranges compared.
    """
    ax, ay, sa, la = a
    bx, by, sb, lb = b
    tot = la.astype(np.int64) * lb
    single = bool((la == 1).all())
    ends = np.cumsum(tot)
    begins = ends - tot
    cuts = np.searchsorted(ends, np.arange(_CHUNK, ends[-1] if ends.size else 0, _CHUNK), "right")
    for p0, p1 in zip(np.r_[0, cuts], np.r_[cuts, tot.size]):
        if p0 == p1:
            continue
        pid = np.repeat(np.arange(p0, p1), tot[p0:p1])
        local = np.arange(pid.size) - (begins[pid] - begins[p0])
        if single:  # one point against a range: no division needed
            i, j = sa[pid], sb[pid] + local
        else:
            i, j = sa[pid] + local // lb[pid], sb[pid] + local % lb[pid]
        dx, dy = ax[i] - bx[j], ay[i] - by[j]
        hit = dx * dx + dy * dy <= eps2
        yield pid[hit], i[hit], j[hit]


class _Scan:
    """Points of cell set a being compared with the cells of b around them, until each is decided."""

    def __init__(self, a: _Cells, points: np.ndarray, b: _Cells, offsets: list[tuple[int, int]]):
        """Track sorted ``points`` of a against b's cells at ``offsets``."""
        self.a, self.b, self.offsets = a, b, np.array(offsets).reshape(-1, 2)
        cell = a.cell_of[points]
        first = np.r_[True, cell[1:] != cell[:-1]][: cell.size]  # points are sorted, so are their cells
        self.row = np.cumsum(first) - 1
        shifts = self.offsets[:, 0] * a.stride + self.offsets[:, 1]
        self.nbr = b.lookup(shifts[:, None] + a.key[cell[first]][None, :])  # cell of b per offset and row
        self.points, self.u, self.v = points, a.pts[2, points], a.pts[3, points]

    def keep(self, mask: np.ndarray) -> None:
        """Stop tracking the points where ``mask`` is false."""
        self.points, self.row, self.u, self.v = self.points[mask], self.row[mask], self.u[mask], self.v[mask]

    @staticmethod
    def _within(u: np.ndarray, v: np.ndarray, dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
        """Whether the cell at offset (dx, dy) has a part within eps of in-cell positions ``u, v``."""
        gap_x = np.maximum(dx - u, u - dx - 1).clip(0)  # in cell sides
        gap_y = np.maximum(dy - v, v - dy - 1).clip(0)
        return gap_x * gap_x + gap_y * gap_y <= 2.0 + 1e-4  # (eps/side)² plus rounding slack

    def reachable(self) -> np.ndarray:
        """Points of b in the occupied cells within eps of each tracked point (all offsets)."""
        total = np.zeros(self.points.size, np.int64)
        for k in range(len(self.offsets)):
            cell = self.nbr[k, self.row]
            near = (cell >= 0) & self._within(self.u, self.v, *self.offsets[k])
            total += np.where(near, self.b.size[cell], 0)
        return total

    def near(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Tracked points whose cell of b at offset number ``k`` is occupied and within eps, and that cell."""
        cell = self.nbr[k, self.row]
        near = (cell >= 0) & self._within(self.u, self.v, *self.offsets[k])
        return self.points[near], cell[near]

    def hits(self, points: np.ndarray, cell: np.ndarray, eps2: float) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield (cell of b, point of a) for every pair within eps of ``points`` with b's ``cell``."""
        a = self.a
        for pid, i, _ in _hits((a.x, a.y, points, np.ones(points.size, np.int64)), self.b.ranges(cell), eps2):
            yield cell[pid], i


def _core_mask(cells: _Cells, eps2: float, min_samples: int) -> np.ndarray:
    """Core flag per sorted point: full cells are core, other points count neighbours until decided."""
    count = cells.size[cells.cell_of]
    undecided = (count < min_samples) & (cells.reach() >= min_samples)[cells.cell_of]
    scan = _Scan(cells, np.flatnonzero(undecided), cells, _OFFSETS)
    left = np.zeros_like(count)  # points in cells within eps, not yet compared
    left[scan.points] = scan.reachable()
    scan.keep(count[scan.points] + left[scan.points] >= min_samples)
    for k in range(len(_OFFSETS)):
        points, cell = scan.near(k)
        for _, i in scan.hits(points, cell, eps2):
            np.add.at(count, i, 1)
        left[points] -= cells.size[cell]
        p = scan.points
        scan.keep((count[p] < min_samples) & (count[p] + left[p] >= min_samples))
    return count >= min_samples


def _probe(core: _Cells, ca: np.ndarray, cb: np.ndarray, mid: np.ndarray, eps2: float) -> np.ndarray:
    """Cheap sufficient link test per cell pair: is a's point nearest b's middle within eps of b."""
    if ca.size == 0:
        return np.zeros(0, bool)
    la = core.size[ca]
    begin = np.cumsum(la) - la
    pid = np.repeat(np.arange(ca.size), la)
    i = np.repeat(core.start[ca] - begin, la) + np.arange(pid.size)
    d = (core.x[i] - mid[0, cb][pid]) ** 2 + (core.y[i] - mid[1, cb][pid]) ** 2
    at_min = np.flatnonzero(d == np.minimum.reduceat(d, begin)[pid])
    nearest = i[at_min[np.r_[True, pid[at_min][1:] != pid[at_min][:-1]]]]
    found = np.zeros(ca.size, bool)
    for pid_hit, _, _ in _hits((core.x, core.y, nearest, np.ones(ca.size, np.int64)), core.ranges(cb), eps2):
        found[pid_hit] = True
    return found


def _link_cells(core: _Cells, mid: np.ndarray, eps2: float) -> np.ndarray:
    """Component id of each core cell, cells being linked by a pair of their core points within eps.

    Offsets go nearest first and skip pairs already joined, so dense clusters join almost for free.
    """
    n = core.key.size
    rows, cols = [np.arange(n)], [np.arange(n)]
    comp = np.arange(n)
    for offset in _HALF_OFFSETS:
        cb = core.lookup(core.key + core.shift(*offset))
        ca = np.flatnonzero(cb >= 0)
        cb = cb[ca]
        todo = comp[ca] != comp[cb]
        ca, cb = ca[todo], cb[todo]
        if ca.size == 0:
            continue
        linked = _probe(core, ca, cb, mid, eps2)
        rest = np.flatnonzero(~linked)
        linked[rest] = _probe(core, cb[rest], ca[rest], mid, eps2)
        rest = np.flatnonzero(~linked)
        for pid, _, _ in _hits(core.ranges(ca[rest]), core.ranges(cb[rest]), eps2):
            linked[rest[pid]] = True
        rows.append(ca[linked])
        cols.append(cb[linked])
        r, c = np.concatenate(rows), np.concatenate(cols)
        comp = connected_components(coo_matrix((np.ones(r.size, np.int8), (r, c)), shape=(n, n)))[1]
    return comp


def _border_labels(border: _Cells, core: _Cells, cell_label: np.ndarray, eps2: float) -> np.ndarray:
    """Lowest cluster label among core points within eps of each non-core point (-1 if none)."""
    offsets = [(0, 0), *_OFFSETS]
    none = cell_label.max() + 1
    nbr = core.lookup(np.array([border.shift(dx, dy) for dx, dy in offsets])[:, None] + border.key[None, :])
    floor = np.where(nbr >= 0, cell_label[nbr], none).min(axis=0)[border.cell_of]  # lowest label around
    scan = _Scan(border, np.flatnonzero(floor < none), core, offsets)
    floor = floor[scan.points]
    best = np.full(border.cell_of.size, none)
    for k in range(len(offsets)):
        points, cell = scan.near(k)
        for cell_hit, i in scan.hits(points, cell, eps2):
            np.minimum.at(best, i, cell_label[cell_hit])
        undecided = best[scan.points] > floor
        scan.keep(undecided)
        floor = floor[undecided]
    return np.where(best < none, best, -1)


def dbscan(x: np.ndarray, y: np.ndarray, eps_m: float, min_samples: int) -> np.ndarray:
    """DBSCAN cluster labels of points in the plane, identical to scikit-learn's, on a grid for speed.

    A point is *core* when at least ``min_samples`` points (itself included) lie within ``eps_m`` of it;
    clusters are the core points connected through such neighbourhoods plus the non-core points within
    ``eps_m`` of one of them; the rest is noise. The labels, their numbering and the choice of cluster for
    a border point within reach of two equal those of ``sklearn.cluster.DBSCAN(eps=eps_m,
    min_samples=min_samples).fit(np.c_[x, y]).labels_``.

    Parameters
    ----------
    x, y : array_like of float
        Point coordinates in metres (any planar CRS; diaban uses EPSG:32648).
    eps_m : float
        Neighbourhood radius in metres (distances ≤ eps count).
    min_samples : int
        Points within ``eps_m`` (itself included) that make a point core;
        :func:`models.analytics.background.auto_min_samples` derives one from the background density.

    Returns
    -------
    ndarray of int64, shape (n,)
        Cluster label per point, 0, 1, … in order of each cluster's first point; −1 for noise.

    Raises
    ------
    ValueError
        If x and y differ in length, ``eps_m`` is not positive or ``min_samples`` is below 1.

    References
    ----------
    Ester, M., Kriegel, H.-P., Sander, J. and Xu, X. (1996). A density-based algorithm for discovering
    clusters in large spatial databases with noise. *Proceedings of KDD-96*, 226-231.
    """
    x, y = np.asarray(x, float).ravel(), np.asarray(y, float).ravel()
    if x.shape != y.shape:
        raise ValueError("x and y must have the same length")
    if eps_m <= 0 or min_samples < 1:
        raise ValueError("eps_m must be positive and min_samples at least 1")
    n = x.size
    labels = np.full(n, -1, np.int64)
    if n == 0:
        return labels
    eps2 = float(eps_m) * float(eps_m)
    side = eps_m / np.sqrt(2.0) * (1 - 1e-6)  # under eps/√2 beyond rounding: a cell's diagonal is < eps
    fx, fy = (x - x.min()) / side, (y - y.min()) / side
    ix, iy = np.floor(fx).astype(np.int64) + 2, np.floor(fy).astype(np.int64) + 2  # 2 cells margin
    stride = int(iy.max()) + 3
    order = np.argsort(ix * stride + iy)
    pts = np.stack([x, y, fx - ix + 2, fy - iy + 2])[:, order]
    cells = _Cells((ix * stride + iy)[order], pts, order, stride, (int(ix.max()) + 3) * stride)

    is_core = _core_mask(cells, eps2, min_samples)
    if not is_core.any():
        return labels

    core = cells.subset(is_core)
    mid = np.stack([(core.key // stride - 1.5) * side + x.min(), (core.key % stride - 1.5) * side + y.min()])
    comp = _link_cells(core, mid, eps2)
    first = np.full(comp.max() + 1, n)
    np.minimum.at(first, comp[core.cell_of], core.index)
    cell_label = np.argsort(np.argsort(first))[comp]
    labels[core.index] = cell_label[core.cell_of]

    border = cells.subset(~is_core)
    labels[border.index] = _border_labels(border, core, cell_label, eps2)
    return labels

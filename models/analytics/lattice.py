"""The cells of a study area on a grid, kept sparse: sorted flat indices and binary neighbourhoods.

A whole city at 100 m is ~2 M grid cells of which a third is land; Bạch Long Vĩ lies 130 km
offshore. Keeping only the study-area cells (and neighbour lists between them, as a sparse matrix)
lets every user's Gi* come from one city-wide computation whatever the cell size, while the sums
stay exactly those of a dense convolution (tests/unit/test_lattice.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import shapely
from scipy import sparse

from models.analytics.grid import GridSpec


def neighbourhood(distance_cells: float = 1.5, contiguity: Literal["distance", "queen"] = "distance") -> np.ndarray:
    """Binary kernel of the cells whose centres lie within ``distance_cells`` (inclusive) of the middle one."""
    if contiguity == "queen":
        return np.ones((3, 3))
    if distance_cells < 0:
        raise ValueError("distance_cells must be non-negative")
    r = int(np.floor(distance_cells + 1e-9))
    dx, dy = np.meshgrid(np.arange(-r, r + 1), np.arange(-r, r + 1))
    return (dx * dx + dy * dy <= distance_cells**2 + 1e-9).astype(float)


@dataclass(frozen=True)
class Lattice:
    """Study-area cells of ``grid`` as sorted, unique flat indices ``iy * nx + ix``."""

    grid: GridSpec
    cells: np.ndarray

    @classmethod
    def from_flat(cls, grid: GridSpec, flat: np.ndarray) -> Lattice:
        """The lattice of the given flat indices (any order, repeats and -1 allowed)."""
        flat = np.asarray(flat, np.int64)
        return cls(grid, np.unique(flat[flat >= 0]))

    @classmethod
    def from_mask(cls, grid: GridSpec, mask: np.ndarray) -> Lattice:
        """The lattice of the cells where a (ny, nx) mask holds."""
        if np.shape(mask) != grid.shape:
            raise ValueError("mask must have the grid's shape")
        return cls(grid, np.flatnonzero(np.asarray(mask, bool).ravel()).astype(np.int64))

    @property
    def n(self) -> int:
        """Number of cells."""
        return int(self.cells.size)

    def position(self, flat: np.ndarray) -> np.ndarray:
        """Position of each flat index in ``cells``, -1 where it is not a study-area cell."""
        flat = np.asarray(flat, np.int64)
        at = np.searchsorted(self.cells, flat)
        found = (at < self.n) & (flat >= 0)
        found[found] = self.cells[at[found]] == flat[found]
        return np.where(found, at, -1)

    def union(self, flat: np.ndarray) -> Lattice:
        """The lattice with more cells added (e.g. cells holding incidents outside the land)."""
        flat = np.asarray(flat, np.int64)
        return Lattice(self.grid, np.union1d(self.cells, flat[flat >= 0]))

    def weights(
        self, distance_cells: float = 1.5, contiguity: Literal["distance", "queen"] = "distance"
    ) -> sparse.csr_matrix:
        """Binary neighbourhood matrix (n × n, each cell its own neighbour) for the kernel of ``neighbourhood``."""
        kernel = neighbourhood(distance_cells, contiguity)
        r = kernel.shape[0] // 2
        nx = self.grid.nx
        ix, iy = self.cells % nx, self.cells // nx
        rows, cols = [], []
        for dy, dx in np.argwhere(kernel > 0) - r:
            inside = (ix + dx >= 0) & (ix + dx < nx) & (iy + dy >= 0) & (iy + dy < self.grid.ny)
            source = np.flatnonzero(inside)
            target = self.position(self.cells[source] + dy * nx + dx)
            hit = target >= 0
            rows.append(source[hit])
            cols.append(target[hit])
        row, col = np.concatenate(rows), np.concatenate(cols)
        return sparse.csr_matrix((np.ones(row.size), (row, col)), shape=(self.n, self.n))

    def to_grid(self, values: np.ndarray, fill: float | int | str = np.nan) -> np.ndarray:
        """Per-cell values laid back on the (ny, nx) grid, ``fill`` elsewhere."""
        values = np.asarray(values)
        out = np.full(self.grid.nx * self.grid.ny, fill, dtype=np.result_type(values.dtype, np.asarray(fill).dtype))
        out[self.cells] = values
        return out.reshape(self.grid.shape)


def cells_in_polygons(grid: GridSpec, polygons: np.ndarray, names: np.ndarray) -> tuple[Lattice, np.ndarray]:
    """The cells of ``grid`` whose centre lies in one of the (metric) polygons, and the name of that polygon.

    Each polygon only tests the centres inside its bounding box; a centre on an edge shared by two
    polygons belongs to the first.
    """
    flats, owners = [], []
    for index, polygon in enumerate(polygons):
        xmin, ymin, xmax, ymax = shapely.bounds(polygon)
        ix0, ix1 = np.clip(np.floor((np.array([xmin, xmax]) - grid.x0) / grid.cell).astype(int), 0, grid.nx - 1)
        iy0, iy1 = np.clip(np.floor((np.array([ymin, ymax]) - grid.y0) / grid.cell).astype(int), 0, grid.ny - 1)
        iy, ix = np.mgrid[iy0 : iy1 + 1, ix0 : ix1 + 1]
        inside = shapely.contains_xy(polygon, grid.x0 + (ix + 0.5) * grid.cell, grid.y0 + (iy + 0.5) * grid.cell)
        flats.append((iy * grid.nx + ix)[inside])
        owners.append(np.full(int(inside.sum()), index))
    flat = np.concatenate(flats) if flats else np.zeros(0, np.int64)
    owner = np.concatenate(owners) if owners else np.zeros(0, np.int64)
    cells, first = np.unique(flat, return_index=True)
    return Lattice(grid, cells.astype(np.int64)), np.asarray(names, dtype=object)[owner[first]]

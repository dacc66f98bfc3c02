"""Square metric grids (EPSG:32648 metres): spec, point binning, cell centres and bounds.

Arrays laid on a grid have shape ``(ny, nx)``; row ``iy`` runs south→north from ``y0`` and
column ``ix`` west→east from ``x0`` (flip rows for north-up images).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely


@dataclass(frozen=True)
class GridSpec:
    """A regular grid of square cells: lower-left corner, cell size (m) and shape.

    Build one with :meth:`from_points` or :meth:`from_bounds`; :meth:`counts` bins points into it, and
    :func:`models.analytics.kde.kde_grid`, :func:`models.analytics.gistar.gistar` work on its arrays.

    Attributes
    ----------
    x0, y0 : float
        Lower-left corner in metres (EPSG:32648).
    cell : float
        Side of a cell in metres.
    nx, ny : int
        Columns (west → east) and rows (south → north); arrays on the grid have shape ``(ny, nx)``.
    """

    x0: float
    y0: float
    cell: float
    nx: int
    ny: int

    @classmethod
    def from_bounds(cls, xmin: float, ymin: float, xmax: float, ymax: float, cell: float, pad: float = 0.0) -> GridSpec:
        """Grid of ``cell``-metre squares covering the bounds widened by ``pad`` metres.

        Parameters
        ----------
        xmin, ymin, xmax, ymax : float
            Bounds to cover, in metres (EPSG:32648); a point on the upper edge still falls in the last cell.
        cell : float
            Side of a cell in metres.
        pad : float, default 0.0
            Margin added on every side, in metres.

        Returns
        -------
        GridSpec
            Its lower-left corner at ``(xmin - pad, ymin - pad)``, at least one cell each way.

        Raises
        ------
        ValueError
            If ``cell`` is not positive.
        """
        if cell <= 0:
            raise ValueError("cell size must be positive")
        x0, y0 = xmin - pad, ymin - pad
        nx = max(1, math.ceil((xmax + pad - x0) / cell))
        ny = max(1, math.ceil((ymax + pad - y0) / cell))
        # a point exactly on the upper edge must still fall inside the last cell
        nx += int(x0 + nx * cell <= xmax + pad)
        ny += int(y0 + ny * cell <= ymax + pad)
        return cls(float(x0), float(y0), float(cell), int(nx), int(ny))

    @classmethod
    def from_points(cls, x: np.ndarray, y: np.ndarray, cell: float, pad: float = 0.0) -> GridSpec:
        """Grid covering all points with ``pad`` metres of margin.

        Parameters
        ----------
        x, y : array_like of float
            Point coordinates in metres (EPSG:32648).
        cell : float
            Side of a cell in metres.
        pad : float, default 0.0
            Margin added around the points' bounds, in metres.

        Returns
        -------
        GridSpec
            As :meth:`from_bounds` over the points' bounding box.

        Raises
        ------
        ValueError
            If there is no point or ``cell`` is not positive.
        """
        x, y = np.asarray(x, float), np.asarray(y, float)
        if x.size == 0:
            raise ValueError("cannot build a grid from no points")
        return cls.from_bounds(x.min(), y.min(), x.max(), y.max(), cell, pad)

    @property
    def shape(self) -> tuple[int, int]:
        """Array shape ``(ny, nx)`` of values laid on this grid."""
        return (self.ny, self.nx)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """Outer bounds ``(xmin, ymin, xmax, ymax)`` of the grid in metres."""
        return (self.x0, self.y0, self.x0 + self.nx * self.cell, self.y0 + self.ny * self.cell)

    def cell_index(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Column and row index of each point (may lie outside ``0..nx-1`` / ``0..ny-1``)."""
        ix = np.floor((np.asarray(x, float) - self.x0) / self.cell).astype(np.int64)
        iy = np.floor((np.asarray(y, float) - self.y0) / self.cell).astype(np.int64)
        return ix, iy

    def flat_index(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Flat cell index ``iy * nx + ix`` of each point, -1 for points outside the grid."""
        ix, iy = self.cell_index(x, y)
        inside = (ix >= 0) & (ix < self.nx) & (iy >= 0) & (iy < self.ny)
        return np.where(inside, iy * self.nx + ix, -1)

    def counts(self, x: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """Number (or summed weight) of points per cell; points outside the grid are dropped.

        Parameters
        ----------
        x, y : array_like of float
            Point coordinates in metres (EPSG:32648).
        weights : array_like of float, optional
            Weight per point. Default: 1 each (counts).

        Returns
        -------
        ndarray, shape (ny, nx)
            Points (or summed weights) per cell, row ``iy`` south → north.
        """
        flat = self.flat_index(x, y)
        keep = flat >= 0
        w = None if weights is None else np.asarray(weights, float)[keep]
        binned = np.bincount(flat[keep], weights=w, minlength=self.nx * self.ny)
        return binned.reshape(self.shape)

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Cell-centre coordinates ``(X, Y)``, each of shape ``(ny, nx)``."""
        xs = self.x0 + (np.arange(self.nx) + 0.5) * self.cell
        ys = self.y0 + (np.arange(self.ny) + 0.5) * self.cell
        return np.meshgrid(xs, ys)

    def cell_bounds(self) -> np.ndarray:
        """Per-cell ``(minx, miny, maxx, maxy)`` rows in flat (row-major) order, shape ``(ny*nx, 4)``."""
        cx, cy = self.centres()
        h = self.cell / 2
        return np.column_stack([cx.ravel() - h, cy.ravel() - h, cx.ravel() + h, cy.ravel() + h])

    def cell_polygons(self) -> np.ndarray:
        """Shapely polygons of every cell in flat (row-major) order."""
        b = self.cell_bounds()
        return shapely.box(b[:, 0], b[:, 1], b[:, 2], b[:, 3])

"""Rendering analyses as images: the heat-map PNG overlay and the top of its colour scale."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def robust_top(density: np.ndarray, quantile: float = 0.99) -> float:
    """Top of the colour scale: a high quantile of the cells with any density, so that a few dense
    hotspots do not leave the rest of the city invisible."""
    values = np.asarray(density, float)
    positive = values[values > values.max() * 1e-3] if values.size and values.max() > 0 else values[:0]
    return float(np.quantile(positive, quantile)) if positive.size else 0.0


def heat_png(density: np.ndarray, vmax: float | None = None, opacity: float = 0.8) -> bytes:
    """Transparent PNG (north up) colouring density yellow→red by value, zero fully transparent."""
    d = np.asarray(density, float)
    top = float(np.nanmax(d)) if vmax is None else float(vmax)
    t = np.clip(np.nan_to_num(d) / top, 0.0, 1.0) if top > 0 else np.zeros(d.shape)
    rgba = np.zeros((*d.shape, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[..., 1] = np.rint(255 * (1 - t))
    rgba[..., 3] = np.rint(255 * opacity * np.sqrt(t))
    buffer = io.BytesIO()
    Image.fromarray(rgba[::-1], mode="RGBA").save(buffer, format="PNG")
    return buffer.getvalue()

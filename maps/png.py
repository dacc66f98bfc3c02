"""Rendering analyses as images: the heat-map PNG overlay and the top of its colour scale."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from maps.styles import HEAT_RAMP

_RAMP = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in HEAT_RAMP], float)


def robust_top(density: np.ndarray, quantile: float = 0.99) -> float:
    """Top of the colour scale: a high quantile of the cells with any density, so that a few dense
    hotspots do not leave the rest of the city invisible."""
    values = np.asarray(density, float)
    positive = values[values > values.max() * 1e-3] if values.size and values.max() > 0 else values[:0]
    return float(np.quantile(positive, quantile)) if positive.size else 0.0


def heat_png(density: np.ndarray, vmax: float | None = None, opacity: float = 0.8) -> bytes:
    """Transparent PNG (north up) colouring density along the heat ramp (maps.styles.HEAT_RAMP, the legend's bar) by
    value up to ``vmax`` (above it: the top colour), zero fully transparent, opacity rising with the value."""
    d = np.asarray(density, float)
    top = float(np.nanmax(d)) if vmax is None else float(vmax)
    t = np.clip(np.nan_to_num(d) / top, 0.0, 1.0) if top > 0 else np.zeros(d.shape)
    position = t * (len(_RAMP) - 1)
    low = np.minimum(np.floor(position).astype(int), len(_RAMP) - 2)
    frac = (position - low)[..., None]
    rgba = np.zeros((*d.shape, 4), np.uint8)
    rgba[..., :3] = np.rint(_RAMP[low] * (1 - frac) + _RAMP[low + 1] * frac)
    rgba[..., 3] = np.rint(255 * opacity * np.sqrt(t))
    buffer = io.BytesIO()
    Image.fromarray(rgba[::-1], mode="RGBA").save(buffer, format="PNG")
    return buffer.getvalue()

"""SYNTHETIC incident attributes: kind by origin (background, spot, den), substance, quantity, arrests."""

from __future__ import annotations

import numpy as np

from models.vocabulary import IncidentKind

KINDS: tuple[IncidentKind, ...] = tuple(IncidentKind)

SUBSTANCES = ("heroin", "methamphetamine", "ma_tuy_da", "cannabis", "ketamine", "mdma")
#: Origin codes of an incident, in the order of ORIGINS.
ORIGINS = ("background", "spot", "den")
BACKGROUND, SPOT, DEN = range(len(ORIGINS))

#: Kind mix per origin: dens organise/harbour use, spots deal, background is a broad mix.
_K = IncidentKind
KIND_MIX: dict[str, dict[str, float]] = {
    "background": {
        _K.DRUG_USE: 0.30,
        _K.POSSESSION: 0.26,
        _K.TRAFFICKING: 0.15,
        _K.TIP: 0.12,
        _K.TRANSPORT: 0.08,
        _K.ORGANIZING_USE: 0.04,
        _K.HARBORING: 0.03,
        _K.PRODUCTION: 0.02,
    },
    "spot": {_K.TRAFFICKING: 0.38, _K.POSSESSION: 0.30, _K.DRUG_USE: 0.22, _K.TIP: 0.06, _K.TRANSPORT: 0.04},
    "den": {_K.ORGANIZING_USE: 0.32, _K.HARBORING: 0.18, _K.DRUG_USE: 0.38, _K.POSSESSION: 0.08, _K.TIP: 0.04},
}
#: Share of background incidents in a cultivating commune that are cultivation finds.
CULTIVATION_SHARE = 0.08
#: Substance mix (order of SUBSTANCES); cultivation is always cannabis, tips carry no substance.
SUBSTANCE_MIX = (0.20, 0.25, 0.35, 0.08, 0.07, 0.05)
#: Quantity seized per kind as (median grams, log-normal sigma); None means no quantity recorded.
QUANTITY: dict[str, tuple[float, float] | None] = {
    _K.TRAFFICKING: (2.0, 1.2),
    _K.POSSESSION: (0.5, 1.0),
    _K.TRANSPORT: (150.0, 1.5),
    _K.ORGANIZING_USE: (0.3, 0.8),
    _K.HARBORING: (0.3, 0.8),
    _K.PRODUCTION: (400.0, 1.2),
    _K.CULTIVATION: (1_000.0, 1.0),
    _K.DRUG_USE: None,
    _K.TIP: None,
}
#: People arrested per kind as base + Poisson(extra).
ARRESTS: dict[str, tuple[int, float]] = {
    _K.TRAFFICKING: (1, 0.3),
    _K.POSSESSION: (1, 0.1),
    _K.TRANSPORT: (1, 0.5),
    _K.ORGANIZING_USE: (1, 0.8),
    _K.HARBORING: (1, 0.3),
    _K.PRODUCTION: (1, 0.6),
    _K.CULTIVATION: (0, 0.8),
    _K.DRUG_USE: (1, 0.0),
    _K.TIP: (0, 0.0),
}


def draw_kinds(rng: np.random.Generator, origin: np.ndarray, cultivating: np.ndarray) -> np.ndarray:
    """Kind index (into KINDS) per incident from its origin's mix; cultivation only where grown."""
    kind = np.empty(len(origin), dtype=np.int8)
    for code, name in enumerate(ORIGINS):
        mask = origin == code
        p = np.array([KIND_MIX[name].get(k, 0.0) for k in KINDS])
        kind[mask] = rng.choice(len(KINDS), size=int(mask.sum()), p=p / p.sum())
    grown = (origin == BACKGROUND) & cultivating & (rng.random(len(origin)) < CULTIVATION_SHARE)
    kind[grown] = KINDS.index("cultivation")
    return kind


def draw_details(rng: np.random.Generator, kind: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Substance (object array, None if absent), quantity in grams (NaN if absent) and arrests per incident."""
    n = len(kind)
    substance = rng.choice(len(SUBSTANCES), size=n, p=SUBSTANCE_MIX).astype(np.int8)
    substance[kind == KINDS.index("cultivation")] = SUBSTANCES.index("cannabis")
    substance[kind == KINDS.index("tip")] = len(SUBSTANCES)
    quantity = np.full(n, np.nan)
    arrested = np.zeros(n, dtype=np.int64)
    for k, name in enumerate(KINDS):
        mask = kind == k
        m = int(mask.sum())
        spread = QUANTITY[name]
        if spread is not None:
            median, sigma = spread
            quantity[mask] = np.maximum(np.round(median * np.exp(sigma * rng.standard_normal(m)), 2), 0.01)
        base, extra = ARRESTS[name]
        arrested[mask] = base + rng.poisson(extra, size=m)
    return np.array([*SUBSTANCES, None], dtype=object)[substance], quantity, arrested

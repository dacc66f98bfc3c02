"""Learned next-year forecast of incident density per commune (Poisson regression on lagged indicators).

Fitted on every (year → next year) pair of the history with the commune area as exposure, so the
prediction is incidents per km² next year: the quantity PAI rewards. Advisory, like the risk forecast.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import PoissonRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

#: Years of the rolling mean density feature.
MEAN_YEARS = 3
ALPHA = 1e-3
#: Added before taking logs, so that empty communes stay finite (incidents per km²).
FLOOR = 0.01


def density_features(panel: pd.DataFrame, area_km2: pd.Series) -> pd.DataFrame:
    """Features known at the end of each year, indexed by (commune_code, year): log densities, active hotspots."""
    # panel: derived indicators (models.domain.indicators), one row per commune and year.
    frame = panel.set_index(["commune_code", "year"]).sort_index()
    area = frame.index.get_level_values("commune_code").map(area_km2).to_numpy(dtype=float)
    density = frame["n_incidents"].astype(float) / area
    by_commune = density.groupby(level="commune_code")
    return pd.DataFrame(
        {
            "density": np.log(density + FLOOR),
            "mean_density": np.log(by_commune.transform(lambda s: s.rolling(MEAN_YEARS, min_periods=1).mean()) + FLOOR),
            "previous_density": np.log(by_commune.shift(1).fillna(density) + FLOOR),
            "hotspots": np.log1p(frame["active_hotspots"].astype(float)),
        }
    )


def forecast_density(panel: pd.DataFrame, area_km2: pd.Series) -> pd.Series:
    """Expected incidents per km² in the year after the panel's last year, per commune."""
    features = density_features(panel, area_km2)
    years = features.index.get_level_values("year")
    last = years.max()
    counts = panel.set_index(["commune_code", "year"]).sort_index()["n_incidents"].astype(float)
    target = counts.groupby(level="commune_code").shift(-1)
    train = (years < last) & target.notna().to_numpy()
    area = features.index.get_level_values("commune_code").map(area_km2).to_numpy(dtype=float)
    current = features[years == last]
    if not train.any():
        return pd.Series(
            np.exp(current["density"]).to_numpy() - FLOOR, index=current.index.get_level_values("commune_code")
        )
    model = make_pipeline(StandardScaler(), PoissonRegressor(alpha=ALPHA, max_iter=1000))
    model.fit(features[train], target[train] / area[train], poissonregressor__sample_weight=area[train])
    return pd.Series(model.predict(current), index=current.index.get_level_values("commune_code"))

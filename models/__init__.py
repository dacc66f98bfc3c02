"""diaban's analytics as a library: the names an analyst calls from a notebook, stable across releases.

Everything here is pure (NumPy / pandas in, NumPy / pandas out): no database, no files, no HTTP.
Coordinates are metres in UTM zone 48N (``METRIC_SRID`` = EPSG:32648); project WGS84 points first,
e.g. ``pyproj.Transformer.from_crs(4326, METRIC_SRID, always_xy=True)``.

=====================  ================================================================================
density on a grid      :class:`GridSpec` (``from_points``, ``from_bounds``, ``counts``), :func:`kde_grid`
hot spots              :func:`gistar` (Getis-Ord Gi*), :func:`emerging_hotspots` (17 ArcGIS patterns,
                       labels in ``PATTERN_LABELS_VI``)
clusters               :func:`dbscan` (labels of scikit-learn's DBSCAN), :func:`auto_min_samples`,
                       :func:`summarise_clusters`, :func:`match_clusters` against a hotspot register
forecast quality       :func:`hit_rate`, :func:`pai`, :func:`pei`, :func:`forecast_scores`
legal classification   :func:`parse_rules` (a parsed criteria TOML), :func:`classify_legal`,
                       :func:`evaluate_criteria`
synthetic data         :func:`generate_scenario` with :class:`ScenarioConfig`
=====================  ================================================================================

The packaged QĐ 28/2025 criteria are ``parse_rules(data.read_toml(data.CRITERIA))`` (the ``data`` package is
installed with diaban); another criteria file is ``parse_rules(tomllib.load(open(path, "rb")))``.

Names are imported from their modules on first use (PEP 562), so ``import models`` — which every layer of the
application does for ``models.vocabulary`` — loads neither SciPy nor GeoPandas.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from models.analytics.background import auto_min_samples
    from models.analytics.clusters import HotspotKindRules, summarise_clusters
    from models.analytics.dbscan import dbscan
    from models.analytics.emerging import PATTERN_LABELS_VI, PATTERNS, EmergingResult, emerging_hotspots
    from models.analytics.gistar import GiStarResult, gistar
    from models.analytics.grid import GridSpec
    from models.analytics.kde import kde_grid
    from models.analytics.matching import MatchResult, MatchRules, match_clusters
    from models.domain.legal_rules import LegalRules, RulesConfigError, classify_legal, evaluate_criteria, parse_rules
    from models.forecast.metrics import forecast_scores, hit_rate, pai, pei
    from models.synthetic.scenario import Scenario, ScenarioConfig, generate_scenario
    from models.vocabulary import METRIC_SRID

__all__ = [
    "METRIC_SRID",
    "PATTERNS",
    "PATTERN_LABELS_VI",
    "EmergingResult",
    "GiStarResult",
    "GridSpec",
    "HotspotKindRules",
    "LegalRules",
    "MatchResult",
    "MatchRules",
    "RulesConfigError",
    "Scenario",
    "ScenarioConfig",
    "auto_min_samples",
    "classify_legal",
    "dbscan",
    "emerging_hotspots",
    "evaluate_criteria",
    "forecast_scores",
    "generate_scenario",
    "gistar",
    "hit_rate",
    "kde_grid",
    "match_clusters",
    "pai",
    "parse_rules",
    "pei",
    "summarise_clusters",
]

#: The module that defines each public name.
_HOME = {
    "METRIC_SRID": "models.vocabulary",
    "PATTERNS": "models.analytics.emerging",
    "PATTERN_LABELS_VI": "models.analytics.emerging",
    "EmergingResult": "models.analytics.emerging",
    "emerging_hotspots": "models.analytics.emerging",
    "GiStarResult": "models.analytics.gistar",
    "gistar": "models.analytics.gistar",
    "GridSpec": "models.analytics.grid",
    "kde_grid": "models.analytics.kde",
    "dbscan": "models.analytics.dbscan",
    "auto_min_samples": "models.analytics.background",
    "HotspotKindRules": "models.analytics.clusters",
    "summarise_clusters": "models.analytics.clusters",
    "MatchResult": "models.analytics.matching",
    "MatchRules": "models.analytics.matching",
    "match_clusters": "models.analytics.matching",
    "LegalRules": "models.domain.legal_rules",
    "RulesConfigError": "models.domain.legal_rules",
    "classify_legal": "models.domain.legal_rules",
    "evaluate_criteria": "models.domain.legal_rules",
    "parse_rules": "models.domain.legal_rules",
    "forecast_scores": "models.forecast.metrics",
    "hit_rate": "models.forecast.metrics",
    "pai": "models.forecast.metrics",
    "pei": "models.forecast.metrics",
    "Scenario": "models.synthetic.scenario",
    "ScenarioConfig": "models.synthetic.scenario",
    "generate_scenario": "models.synthetic.scenario",
}


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use (later uses find it in the module's namespace)."""
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'models' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})

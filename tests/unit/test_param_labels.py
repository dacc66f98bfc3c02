"""The access log's parameter values by their Vietnamese labels: the heat surface's kernel and form, recorded since a
heat surface on fine cells is detailed data, had read «gaussian» and «overlay» on the administrator's page."""

from __future__ import annotations

import inspect
from typing import get_args

from api.routes.analysis import heat
from models.analytics.kde import Kernel
from models.vocabulary import ANALYSIS_VALUE_LABELS, param_value_label


def test_the_kernels_and_forms_named_are_those_the_heat_route_takes() -> None:
    assert tuple(ANALYSIS_VALUE_LABELS["kernel"]) == get_args(Kernel)
    assert tuple(ANALYSIS_VALUE_LABELS["format"]) == get_args(inspect.signature(heat).parameters["format"].annotation)


def test_a_heat_requests_kernel_and_form_read_in_vietnamese() -> None:
    assert param_value_label("kernel", "gaussian") == "nhân Gauss"
    assert param_value_label("format", "overlay") == "ảnh phủ bản đồ"
    assert param_value_label("format", "geojson") == "GeoJSON"  # a classification's export too

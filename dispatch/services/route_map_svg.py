"""Drawing route maps as SVG: pure functions over provinces and routes, no Flask or database.

An equirectangular projection scaled by cos(latitude), fitted to the stops; province
outlines from dispatch/data/provinces.json; dark routes told apart by dash pattern, so the
map reads in grey print.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import cache, cached_property, lru_cache
from pathlib import Path

from markupsafe import Markup, escape

PROVINCES_FILE = Path(__file__).resolve().parents[1] / "data" / "provinces.json"
WIDTH = 960.0
MIN_ASPECT, MAX_ASPECT = 0.45, 0.8  # height / width
MIN_SPAN = 1.5  # degrees: a map of one town still shows its surroundings
FONT = 13.0
# Dash patterns, one per bus of a day: they tell routes apart without colour.
DASHES = (
    "",
    "10 5",
    "3 4",
    "14 4 3 4",
    "6 3",
    "1 4",
    "18 6",
    "8 3 2 3 2 3",
    "2 2",
    "20 4 4 4",
    "12 3 3 3 3 3",
    "5 2 1 2",
)
PROVINCE_EN = {
    "山西": "Shanxi",
    "河南": "Henan",
    "安徽": "Anhui",
    "江苏": "Jiangsu",
    "上海": "Shanghai",
    "浙江": "Zhejiang",
    "山东": "Shandong",
    "河北": "Hebei",
    "陕西": "Shaanxi",
    "湖北": "Hubei",
}


@dataclass(frozen=True)
class Stop:
    """A stop as the map shows it."""

    name: str
    lon: float
    lat: float
    time: str = ""
    pickup: bool = True


@dataclass(frozen=True)
class Route:
    """One bus's stops in order."""

    code: str
    stops: tuple[Stop, ...]


@dataclass(frozen=True)
class Province:
    """A province outline: rings of (lon, lat)."""

    name_zh: str
    role: str
    label: tuple[float, float]
    rings: tuple[tuple[tuple[float, float], ...], ...]

    @cached_property
    def bbox(self) -> tuple[float, float, float, float]:
        """West, south, east, north."""
        lons = [lon for ring in self.rings for lon, _ in ring]
        lats = [lat for ring in self.rings for _, lat in ring]
        return min(lons), min(lats), max(lons), max(lats)


@cache
def load_provinces(path: Path = PROVINCES_FILE) -> tuple[Province, ...]:
    """The province outlines, read once per process."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return tuple(
        Province(
            p["name_zh"],
            p["role"],
            (p["label"][0], p["label"][1]),
            tuple(tuple((x, y) for x, y in ring) for ring in p["rings"]),
        )
        for p in data["provinces"]
    )


@dataclass(frozen=True)
class Frame:
    """The projection: degrees to SVG pixels, north up."""

    west: float
    north: float
    kx: float  # cos(mid latitude): a degree of longitude is shorter than one of latitude
    scale: float  # pixels per degree of latitude
    width: float
    height: float

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        return ((lon - self.west) * self.kx * self.scale, (self.north - lat) * self.scale)

    def lonlat(self, x: float, y: float) -> tuple[float, float]:
        return (self.west + x / (self.kx * self.scale), self.north - y / self.scale)

    def inside(self, x: float, y: float, inset: float = 0.0) -> bool:
        return inset <= x <= self.width - inset and inset <= y <= self.height - inset


def fit(points: list[tuple[float, float]], width: float = WIDTH) -> Frame:
    """A frame around (lon, lat) points with a margin, its height following their shape."""
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    kx = math.cos(math.radians((min(lats) + max(lats)) / 2))
    span_x = max(max(lons) - min(lons), MIN_SPAN) * kx
    span_y = max(max(lats) - min(lats), MIN_SPAN)
    margin = 0.15 * max(span_x, span_y)
    span_x, span_y = span_x + 2 * margin, span_y + 2 * margin
    aspect = min(max(span_y / span_x, MIN_ASPECT), MAX_ASPECT)
    span_x, span_y = max(span_x, span_y / aspect), max(span_y, span_x * aspect)
    mid_lon, mid_lat = (min(lons) + max(lons)) / 2, (min(lats) + max(lats)) / 2
    scale = width / span_x
    return Frame(mid_lon - span_x / kx / 2, mid_lat + span_y / 2, kx, scale, width, span_y * scale)


def text_width(text: str, size: float = FONT) -> float:
    """About how wide a label is: Chinese characters are square, Latin ones narrower."""
    return sum(1.0 if ord(c) > 0x2E80 else 0.58 for c in text) * size


@dataclass
class Placer:
    """Greedy label placement: the first free spot around a point, else further out."""

    frame: Frame
    taken: list[tuple[float, float, float, float]] = field(default_factory=list)

    def block(self, x: float, y: float, w: float, h: float) -> None:
        self.taken.append((x, y, x + w, y + h))

    def free(self, box: tuple[float, float, float, float]) -> bool:
        x0, y0, x1, y1 = box
        if not (self.frame.inside(x0, y0, 2) and self.frame.inside(x1, y1, 2)):
            return False
        return all(x1 <= a or x0 >= c or y1 <= b or y0 >= d for a, b, c, d in self.taken)

    def place(self, x: float, y: float, w: float, h: float) -> tuple[float, float, bool]:
        """Top-left corner of a w×h box near (x, y), and whether it needs a leader line."""
        gap = 7.0
        near = [
            (x + gap, y - h / 2),
            (x - gap - w, y - h / 2),
            (x + gap, y - h - 2),
            (x + gap, y + 2),
            (x - w / 2, y - gap - h),
            (x - w / 2, y + gap),
            (x - gap - w, y - h - 2),
            (x - gap - w, y + 2),
        ]
        far = [
            (x + side * (gap + 24) - (w if side < 0 else 0), y - h / 2 + k * (h + 2))
            for k in (1, -1, 2, -2, 3, -3, 4, -4, 5, -5, 6, -6)
            for side in (1, -1)
        ]
        for n, (bx, by) in enumerate(near + far):
            if self.free((bx, by, bx + w, by + h)):
                self.block(bx, by, w, h)
                return bx, by, n >= len(near)
        self.block(near[0][0], near[0][1], w, h)
        return near[0][0], near[0][1], False


def _ring_path(frame: Frame, ring: tuple[tuple[float, float], ...]) -> str:
    """A ring in whole pixels (the outlines are simplified to ~2 km, coarser than a pixel)."""
    sx, sy = frame.kx * frame.scale, frame.scale
    points = [
        f"{round((lon - frame.west) * sx)},{round((frame.north - lat) * sy)}" for lon, lat in ring
    ]
    kept = [p for p, before in zip(points, [""] + points[:-1], strict=True) if p != before]
    return "M" + "L".join(kept) + "Z"


def _in_view(frame: Frame, province: Province) -> bool:
    """Whether any part of a province's bounding box falls in the frame."""
    west, south, east, north = province.bbox
    x0, y0 = frame.xy(west, north)
    x1, y1 = frame.xy(east, south)
    return x1 >= 0 and x0 <= frame.width and y1 >= 0 and y0 <= frame.height


def _inside_ring(lon: float, lat: float, ring: tuple[tuple[float, float], ...]) -> bool:
    """Ray casting: whether a point lies inside a ring."""
    inside = False
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True):
        if (y0 > lat) != (y1 > lat) and lon < x0 + (lat - y0) * (x1 - x0) / (y1 - y0):
            inside = not inside
    return inside


def _label_spots(frame: Frame, province: Province) -> list[tuple[float, float]]:
    """Places for a province's name, best first: its label point, the middle of its visible
    edge, then spots around them; only those inside the province and the frame."""
    seen = [frame.xy(lon, lat) for ring in province.rings for lon, lat in ring]
    seen = [(px, py) for px, py in seen if frame.inside(px, py, 30)]
    bases = [frame.xy(*province.label)]
    if seen:
        bases.append((sum(p[0] for p in seen) / len(seen), sum(p[1] for p in seen) / len(seen)))
    steps = [(0, 0), (0, 45), (0, -45), (60, 0), (-60, 0), (60, 45), (-60, 45), (0, 90), (0, -90)]
    spots = [(x + dx, y + dy) for x, y in bases for dx, dy in steps]
    return [
        (x, y)
        for x, y in spots
        if frame.inside(x, y, 30)
        and any(_inside_ring(*frame.lonlat(x, y), ring) for ring in province.rings)
    ]


@lru_cache(maxsize=64)
def _provinces(frame: Frame) -> tuple[tuple[Province, ...], str]:
    """The provinces in view and their outlines: kept per frame, as a plan's maps are redrawn
    on every visit with the same frames."""
    shown = tuple(p for p in load_provinces() if _in_view(frame, p))
    paths = "".join(
        f'<path class="province province-{p.role}" '
        f'd="{"".join(_ring_path(frame, ring) for ring in p.rings)}"/>'
        for p in shown
    )
    return shown, paths


def _province_names(
    frame: Frame, placer: Placer, provinces: tuple[Province, ...], locale: str
) -> list[str]:
    """Province names where they cover no stop, label or legend."""
    names = []
    for province in provinces:
        name = (
            province.name_zh
            if locale.startswith("zh")
            else PROVINCE_EN.get(province.name_zh, province.name_zh)
        )
        w, h = text_width(name, 22) * 1.3, 24.0
        for x, y in _label_spots(frame, province):
            if placer.free((x - w / 2, y - h + 4, x + w / 2, y + 4)):
                names.append(
                    f'<text class="province-name" x="{x:.1f}" y="{y:.1f}" '
                    f'text-anchor="middle">{escape(name)}</text>'
                )
                break
    return names


def _route_line(frame: Frame, route: Route, dash: str) -> str:
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in (frame.xy(s.lon, s.lat) for s in route.stops))
    dashed = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<polyline class="route-line" data-bus="{escape(route.code)}" points="{points}"{dashed}>'
        f"<title>{escape(route.code)}</title></polyline>"
    )


def _dot(frame: Frame, stop: Stop, placer: Placer) -> str:
    x, y = frame.xy(stop.lon, stop.lat)
    placer.block(x - 4, y - 4, 8, 8)
    title = f"<title>{escape(stop.name)}</title>"
    if stop.pickup:
        return f'<circle class="stop-dot pickup" cx="{x:.1f}" cy="{y:.1f}" r="4.5">{title}</circle>'
    return (
        f'<rect class="stop-dot dropoff" x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" '
        f'height="8">{title}</rect>'
    )


def _label(frame: Frame, placer: Placer, stop: Stop, lines: list[str], css: str) -> str:
    """A label of one or two lines near its stop, with a leader line when pushed away."""
    x, y = frame.xy(stop.lon, stop.lat)
    w = max(text_width(line, FONT if i == 0 else FONT - 2) for i, line in enumerate(lines)) + 4
    h = FONT * 1.25 * len(lines)
    bx, by, leader = placer.place(x, y, w, h)
    parts = []
    if leader:
        lx = bx if bx > x else bx + w
        parts.append(
            f'<line class="leader" x1="{x:.1f}" y1="{y:.1f}" x2="{lx:.1f}" y2="{by + h / 2:.1f}"/>'
        )
    spans = "".join(
        f'<tspan x="{bx + 2:.1f}" y="{by + FONT * (1.0 + 1.25 * i):.1f}"'
        + (' class="stop-time"' if i else "")
        + f">{escape(line)}</tspan>"
        for i, line in enumerate(lines)
    )
    parts.append(f'<text class="{css}">{spans}</text>')
    return "".join(parts)


def _legend(frame: Frame, placer: Placer, routes: list[Route]) -> list[str]:
    """Bus codes with their line pattern, in the lower left corner."""
    row_h = 18.0
    cols = math.ceil(len(routes) / 12)
    rows = math.ceil(len(routes) / cols)  # columns of even length
    top = frame.height - 10 - min(len(routes), rows) * row_h
    placer.block(6, top - 4, cols * 110, min(len(routes), rows) * row_h + 8)
    parts = [
        f'<rect class="legend-box" x="6" y="{top - 4:.1f}" width="{cols * 110}" '
        f'height="{min(len(routes), rows) * row_h + 8:.1f}"/>'
    ]
    for n, route in enumerate(routes):
        x, y = 14 + (n // rows) * 110, top + (n % rows) * row_h + row_h / 2
        dash = DASHES[n % len(DASHES)]
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<line class="route-line" x1="{x:.1f}" y1="{y:.1f}" x2="{x + 44:.1f}" y2="{y:.1f}"'
            f'{dashed}/><text class="legend-code" x="{x + 50:.1f}" y="{y + 4.5:.1f}">'
            f"{escape(route.code)}</text>"
        )
    return parts


def _sites(routes: list[Route]) -> list[Stop]:
    """Each stop once, by name and place: several buses may share a stop."""
    seen: dict[tuple[str, float, float], Stop] = {}
    for route in routes:
        for stop in route.stops:
            seen.setdefault((stop.name, stop.lon, stop.lat), stop)
    return list(seen.values())


def draw(
    routes: list[Route],
    title: str,
    desc: str,
    *,
    times: bool,
    locale: str = "zh",
) -> Markup:
    """An SVG map of routes: one bus with its stops' times, or a day's buses with names only."""
    points = [(s.lon, s.lat) for r in routes for s in r.stops] or [(116.0, 34.0)]
    frame = fit(points)
    placer = Placer(frame)
    provinces, outlines = _provinces(frame)
    legend = _legend(frame, placer, routes) if len(routes) > 1 else []
    body = [_route_line(frame, r, DASHES[n % len(DASHES)]) for n, r in enumerate(routes)]
    stops = [s for r in routes for s in r.stops] if times else _sites(routes)
    body += [_dot(frame, s, placer) for s in stops]
    body += [
        _label(frame, placer, s, [s.name, s.time] if times and s.time else [s.name], "stop-label")
        for s in stops
    ]
    body += [_label(frame, placer, r.stops[0], [r.code], "bus-code") for r in routes if r.stops]
    names = _province_names(frame, placer, provinces, locale)
    return _svg(frame, title, desc, [outlines, *names, *body, *legend])


def _svg(frame: Frame, title: str, desc: str, body: list[str]) -> Markup:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="route-map-svg" role="img" '
        f'aria-label="{escape(title)}" viewBox="0 0 {frame.width:.0f} {frame.height:.0f}" '
        f'preserveAspectRatio="xMidYMid meet"><title>{escape(title)}</title>'
        f"<desc>{escape(desc)}</desc>"
        f'<rect class="sea" x="0" y="0" width="{frame.width:.0f}" height="{frame.height:.0f}"/>'
    )
    return Markup(head + "".join(body) + "</svg>")

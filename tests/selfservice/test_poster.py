"""The QR code to /join and its A4 poster: what a phone camera reads from them."""

from __future__ import annotations

import io
from pathlib import Path
from xml.etree import ElementTree

import pypdfium2
import pytest
import zxingcpp
from PIL import Image

from tests.support.browser import CHROMIUM, REQUIRE_BROWSER, screenshot_dir

BASE = "https://dispatch.linfen.example.cn"


@pytest.fixture
def poster_client(demo_app):
    demo_app.config.update(PUBLIC_BASE_URL=BASE + "/", CHROMIUM_PATH=CHROMIUM)
    return demo_app.test_client()


def _decoded(image: Image.Image) -> list[str]:
    return [found.text for found in zxingcpp.read_barcodes(image)]


def test_the_svg_is_a_full_qr_code_to_the_page_with_the_preset(poster_client):
    answer = poster_client.get("/join/qr.svg?county=hongtong&pickup=hongtong&x=%3Cb%3E")
    assert answer.status_code == 200 and answer.mimetype == "image/svg+xml"
    root = ElementTree.fromstring(answer.data)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert (
        len(root.findall(".//{http://www.w3.org/2000/svg}path")) == 2
    )  # white ground, dark modules
    title = root.find("{http://www.w3.org/2000/svg}title").text
    assert title == f"{BASE}/join?county=hongtong&pickup=hongtong"  # unknown parameters dropped
    # A full QR code (21×21 modules and more; a Micro QR, which cameras miss, is 11-17) + borders.
    assert int(root.get("width")) >= (21 + 8) * 8


def test_an_unknown_county_or_pickup_point_is_left_out_of_the_code(poster_client):
    root = ElementTree.fromstring(
        poster_client.get("/join/qr.svg?county=x%22y&pickup=nowhere").data
    )
    assert root.find("{http://www.w3.org/2000/svg}title").text == f"{BASE}/join"


@pytest.mark.browser
def test_the_poster_is_one_a4_page_whose_code_a_phone_reads(poster_client):
    if not Path(CHROMIUM).exists():
        if REQUIRE_BROWSER:
            pytest.fail(f"Chromium is required but {CHROMIUM} is missing")
        pytest.skip("Chromium not installed")
    answer = poster_client.get("/join/poster.pdf?county=hongtong&pickup=hongtong")
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    assert answer.data.startswith(b"%PDF")
    document = pypdfium2.PdfDocument(answer.data)
    try:
        assert len(document) == 1
        width, height = document[0].get_size()
        assert (round(width), round(height)) == (595, 842)  # A4 in points
        text = document[0].get_textpage().get_text_range()
        image = document[0].render(scale=2).to_pil()
    finally:
        document.close()
    assert "上车点：洪洞县" in text and "0357-12333" in text and "人力资源和社会保障局" in text
    assert "扫描二维码" in text
    assert _decoded(image) == [f"{BASE}/join?county=hongtong&pickup=hongtong"]
    buffer = io.BytesIO()
    image.save(buffer, "PNG")  # kept for a person to look at
    out = screenshot_dir("test_the_poster_is_one_a4_page_whose_code_a_phone_reads")
    out.mkdir(parents=True, exist_ok=True)
    (out / "poster.png").write_bytes(buffer.getvalue())


@pytest.mark.parametrize(
    ("base", "here_only"),
    [
        ("http://127.0.0.1:5000", True),
        ("http://localhost:5000", True),
        ("http://[::1]:5000", True),
        ("http://192.168.1.20:5000", False),  # a phone on the office's Wi-Fi reaches it
        ("https://dispatch.linfen.example.cn", False),
    ],
)
def test_a_poster_address_that_opens_only_on_the_server_is_told(base, here_only):
    from dispatch.services.join_poster import only_this_machine

    assert only_this_machine(base) is here_only

"""The QR code to /join and the A4 poster that carries it (printed by Chromium, as manifests are)."""

from __future__ import annotations

import io
import ipaddress
from functools import cache, lru_cache
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import segno

from dispatch.services import manifest_export

POSTER_CSS = Path(__file__).resolve().parent.parent / "static" / "join-poster.css"


def join_url(public_base_url: str, query: dict[str, str]) -> str:
    """The address the code leads to: PUBLIC_BASE_URL/join, with the poster's county and pickup."""
    url = public_base_url.rstrip("/") + "/join"
    return f"{url}?{urlencode(query)}" if query else url


def qr_code(url: str) -> segno.QRCode:
    """A full QR code (never a Micro QR, which phone cameras do not read), error level M or
    better: a poster gets creased, wet and photographed at an angle."""
    return segno.make_qr(url, error="m", boost_error=True)


def qr_svg(url: str, scale: int = 8, inline: bool = False) -> str:
    """The code as SVG: a standalone document, or (``inline``) an <svg> element for a page."""
    code = qr_code(url)
    if inline:
        return code.svg_inline(scale=scale, border=2, dark="#000", light="#fff", omitsize=True)
    buffer = io.BytesIO()
    code.save(buffer, kind="svg", scale=scale, border=4, dark="#000", light="#fff", title=url)
    return buffer.getvalue().decode()


@cache
def poster_css() -> str:
    """The poster's stylesheet, read once: the printed page carries it inline."""
    return POSTER_CSS.read_text(encoding="utf-8")


@lru_cache(maxsize=64)  # posters differ only by pickup point: a season has a few dozen
def poster_pdf(html: str, chromium_path: str) -> bytes:
    """The poster page printed to A4; the same page is printed once per process and kept
    (Chromium takes a second or two; a public address must not make it work on every hit)."""
    return manifest_export.to_pdf(html, chromium_path)


def only_this_machine(base_url: str) -> bool:
    """Whether a code to ``base_url`` opens only on the server itself (127.0.0.1, localhost):
    a poster printed with it leads every worker's phone nowhere."""
    host = (urlsplit(base_url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False

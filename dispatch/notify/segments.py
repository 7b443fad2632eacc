"""SMS segment counting: how many parts a carrier bills for a text (GSM-7 or UCS-2)."""

from __future__ import annotations

import math

GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXT = set("^{}\\[~]|€")


def count_segments(text: str) -> int:
    """How many SMS segments carry ``text``: UCS-2 70/67, GSM-7 160/153."""
    if all(ch in GSM7 or ch in GSM7_EXT for ch in text):
        units = sum(2 if ch in GSM7_EXT else 1 for ch in text)
        single, multi = 160, 153
    else:
        # UTF-16 code units: characters outside the BMP (emoji) take two.
        units = sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)
        single, multi = 70, 67
    if units <= single:
        return 1
    return math.ceil(units / multi)

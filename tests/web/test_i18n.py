"""Every string a person reads has its Chinese translation."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]


def test_every_message_has_a_chinese_translation(tmp_path: Path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-o",
            str(pot),
            "dispatch",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as f:
        wanted = {m.id for m in read_po(f) if m.id}
    po_path = ROOT / "dispatch/translations/zh_Hans_CN/LC_MESSAGES/messages.po"
    with po_path.open("rb") as f:
        catalogue = read_po(f)
    translated = {m.id for m in catalogue if m.id and m.string and not m.fuzzy}
    assert sorted(wanted - translated) == []

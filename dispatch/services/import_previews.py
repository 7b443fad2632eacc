"""Checked import previews kept on disk between the preview and its confirmation.

A confirmation claims its preview by renaming the file, which only one request can do: a
double click or a page sent twice imports once, and the second request learns the outcome.
"""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path

from dispatch.services.worker_import import ImportReport, report_from_json, report_to_json

MAX_AGE_S = 24 * 3600  # checked previews never confirmed hold personal data: drop them


class PreviewStore:
    """Previews (``<token>.json``), claims (``.claimed``) and outcomes (``.done``) in a folder."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder

    def store(self, report: ImportReport) -> str:
        """Keep a checked preview; returns the token that confirms it."""
        self._forget_old()
        token = secrets.token_urlsafe(16)
        self._path(token, "json").write_text(report_to_json(report), encoding="utf-8")
        return token

    def claim(self, token: str) -> ImportReport | None:
        """The preview, taken so that no other request can confirm it; None if gone."""
        claimed = self._path(token, "claimed")
        try:
            self._path(token, "json").rename(claimed)
        except (FileNotFoundError, OSError):
            return None
        return report_from_json(claimed.read_text(encoding="utf-8"))

    def release(self, token: str) -> None:
        """Drop a claimed preview whose import failed: the file must be checked again."""
        self._path(token, "claimed").unlink(missing_ok=True)

    def finish(self, token: str, user_id: int, written: int) -> None:
        """Record what the confirmation did, for a second click to report."""
        self._path(token, "claimed").unlink(missing_ok=True)
        outcome = {"user": user_id, "written": written}
        self._path(token, "done").write_text(json.dumps(outcome), encoding="utf-8")

    def outcome(self, token: str, user_id: int, wait_s: float = 15.0) -> int | None:
        """How many workers this user's confirmation of ``token`` saved, if it is done;
        while another request is saving it, wait (up to ``wait_s``) for it to finish."""
        deadline = time.monotonic() + wait_s
        while self._path(token, "claimed").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        path = self._path(token, "done")
        try:
            outcome = json.loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return None
        return outcome["written"] if outcome.get("user") == user_id else None

    def _path(self, token: str, kind: str) -> Path:
        safe = "".join(c for c in token if c.isalnum() or c in "-_")[:64] or "none"
        return self.folder / f"{safe}.{kind}"

    def _forget_old(self) -> None:
        cutoff = time.time() - MAX_AGE_S
        for path in self.folder.iterdir():
            if path.suffix in (".json", ".claimed", ".done") and path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)

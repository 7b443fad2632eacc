"""`make run` hands out links (drivers' manifests) on the address it serves, unless an address
is configured."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_make_run_hands_out_links_to_the_address_it_serves():
    def dry_run(*args: str, **env: str) -> str:
        environment = {"PATH": "/usr/bin:/bin", **env}
        return subprocess.run(
            ["make", "-n", "run", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env=environment,
            check=True,
        ).stdout

    assert "--port 8123 --public-url http://127.0.0.1:8123" in dry_run("PORT=8123")
    everywhere = dry_run("HOST=0.0.0.0", "PORT=8000")
    assert "http://0.0.0.0" not in everywhere and re.search(
        r"--public-url http://\S+:8000", everywhere
    )


def test_the_served_address_gives_way_to_a_configured_one():
    from dispatch.commands import adopt_public_url

    served = {"PUBLIC_BASE_URL": "http://127.0.0.1:5000"}  # the default: nothing configured
    adopt_public_url(served, "http://127.0.0.1:8123/")
    assert served["PUBLIC_BASE_URL"] == "http://127.0.0.1:8123"
    configured = {"PUBLIC_BASE_URL": "https://dispatch.example.cn"}
    adopt_public_url(configured, "http://127.0.0.1:8123")
    assert configured["PUBLIC_BASE_URL"] == "https://dispatch.example.cn"

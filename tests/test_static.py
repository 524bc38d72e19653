"""Vendored static files are exactly what their README says they are."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

HTMX = Path(__file__).resolve().parents[1] / "agnozys" / "static" / "vendor" / "htmx"


def test_vendored_htmx_matches_the_sha256_in_its_readme():
    readme = (HTMX / "README.md").read_text()
    documented = re.search(r"sha256 of `htmx\.min\.js`: `([0-9a-f]{64})`", readme)
    assert documented, "README.md must state the sha256 of htmx.min.js"

    actual = hashlib.sha256((HTMX / "htmx.min.js").read_bytes()).hexdigest()

    assert actual == documented.group(1)


def test_vendored_htmx_is_served_with_its_license(client):
    response = client.get("/static/vendor/htmx/htmx.min.js")

    assert response.status_code == 200
    assert b"htmx" in response.data[:2000]
    assert (HTMX / "LICENSE").read_text().strip()

"""docs/sdk.md says what the server serves today: compared with the routes of both specs."""

from __future__ import annotations

import re
from pathlib import Path

from tests.platform import Platform

DOC = Path(__file__).resolve().parents[2] / "docs" / "sdk.md"
# The API reference's areas this release does not serve, as the doc names them.
NOT_SERVED = ("export",)


def service_table() -> dict[str, tuple[str, str]]:
    """service -> (path prefix, example column) of the low-level calls' table."""
    rows = re.findall(r"^\| `([\w-]+)` \| `(/[\w/-]*)` \| (.*) \|$", DOC.read_text(), flags=re.M)
    return {service: (prefix, example) for service, prefix, example in rows}


def test_every_service_of_the_table_is_served_and_none_is_said_not_to_be(
    platform: Platform,
) -> None:
    public = list(platform.client.get("/openapi.json").json()["paths"])
    admin = ["/admin" + p for p in platform.client.get("/admin/openapi.json").json()["paths"]]
    table = service_table()
    assert len(table) >= 10
    for service, (prefix, example) in table.items():
        assert any(p == prefix or p.startswith(prefix + "/") for p in public + admin), service
        assert "not served" not in example, service
    prefixes = [prefix for prefix, _ in table.values()]
    for path in public:  # and the table reaches everything served
        assert any(path == p or path.startswith(p + "/") for p in prefixes), path


def test_what_the_doc_says_is_not_served_is_not(platform: Platform) -> None:
    text = DOC.read_text()
    said = text.split("are not served by this release", 1)[0].rsplit("\n\n", 1)[-1].lower()
    for area in NOT_SERVED:
        assert area in said, area
    spec = platform.client.get("/openapi.json").json()
    for path in spec["paths"]:
        assert not any(area in path.lower() for area in NOT_SERVED), path
    assert "not served yet" not in text

"""Ready for a read-only root filesystem: `tutela serve` with the image's settings writes only
to TUTELA_DATA_DIR (the image's /data volume). Its home folder is read-only and stays empty, no
bytecode is written, and a scan works; the image's HEALTHCHECK command passes against it and
fails when nothing answers."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import httpx

from tests.conftest import make_settings
from tests.deploy import layout
from tests.platform import Platform
from tests.server.scans.estates import link_sample_snapshot
from tests.serving import free_port, served
from tutela.server.migrate import upgrade


def test_serve_writes_only_to_its_data_dir(tmp_path: Path) -> None:
    home, data = tmp_path / "home", tmp_path / "data"
    home.mkdir()
    data.mkdir()
    home.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP)  # r-x: read-only
    image = layout.image_environment()
    assert image["PYTHONDONTWRITEBYTECODE"] == "1"
    environment = {
        **image,
        "TUTELA_DATA_DIR": str(data),  # the image's /data
        "TUTELA_HOST": "127.0.0.1",
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "TUTELA_RATE_LIMIT": "100000/minute",
    }
    try:
        upgrade(make_settings(data).resolved_database_url)
        with Platform(make_settings(data)) as platform:  # the operator's tenant, same data dir
            tenant = platform.tenant("enterprise")
            link_sample_snapshot(platform, tenant)
        with served(environment, tmp_path / "serve.log") as url:
            scan = httpx.post(
                f"{url}/scan", headers=tenant.headers, json={"frameworks": ["dora"]}, timeout=60
            )
            assert scan.status_code == 200, scan.text
            port = url.rsplit(":", 1)[1]
            check = layout.healthcheck_of_image()
            healthy = _run([sys.executable, *check[1:]], {"TUTELA_PORT": port})
            ready = httpx.get(f"{url}{layout.health_path(check)}", timeout=10)
            assert ready.status_code == 200, ready.text
            assert healthy.returncode == 0, healthy.stderr
    finally:
        home.chmod(stat.S_IRWXU)
    assert list(home.iterdir()) == []
    written = {p.relative_to(data).as_posix() for p in data.rglob("*")}
    assert not [name for name in written if name.endswith(".pyc")], written
    assert "tutela.db" in written
    check = layout.healthcheck_of_image()
    unhealthy = _run([sys.executable, *check[1:]], {"TUTELA_PORT": str(free_port())})
    assert unhealthy.returncode != 0


def _run(command: list[str], environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, env=environment, capture_output=True, text=True, timeout=30, check=False
    )

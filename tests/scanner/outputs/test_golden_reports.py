"""Reports of a generated estate stay byte for byte what they were (table, SARIF, JSON).

The estate is ``bench/generate.py``'s, seeded, read from each of its three files.

The digests below were taken from the reports the engine and writers wrote before they were
reworked for speed; any change to what a report says (or how it is spelt) changes one. A change
that is meant to alter reports (a new check, a catalogue edit, a generator change) regenerates
them: ``python -m tests.scanner.outputs.test_golden_reports`` prints the new table, after the
change's reports have been compared with the previous commit's by hand.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sys
from pathlib import Path

import pytest

from tutela.cli.scan import Format
from tutela.cli.scan_reports import Destination, Reports
from tutela.scanner.catalog import load_catalog
from tutela.scanner.scan import run_scan
from tutela.scanner.sources import read_estate

BENCH = Path(__file__).resolve().parents[3] / "bench"
SCAN_TS = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
SIZE, SEED = 50, 42
INPUTS = ("arg.json", "template.json", "plan.json")

GOLDEN = {
    "arg-passed.json": "cfd75cb05f2e2e10baad714853044cbd0e9647203f7483307ebfe7292db476c8",
    "arg.json": "887c07c438b4ec4b7b9661e2dcf6241f8c9cd98d4397737b66f39e927ff23430",
    "arg.sarif": "7fa24c880a0c0467099e24c1c66a8617cf77ab85964a62c2aa52b87410414764",
    "arg.table": "abfa7db69b853d385f911751430ff95fa506893bf795db51e242f423218383b7",
    "plan-passed.json": "152e869fa9014070c20ce919201252ce6bfa90d4ad1bc2656b8aaa584ad6ff1a",
    "plan.json": "2dcc07bc3a2a0b71334b40d7801963a2e2fe90388a4472ad5c72f9001323f20c",
    "plan.sarif": "cc24f420e2791eaafd351bda28b2b91e0aac535e74842fa69577121b7a790d1c",
    "plan.table": "b3b38d7c911e5ef79922f0bf8cc6b8b8bcd7e3e09983f675831a3f7859eb3d22",
    "template-passed.json": "9529aab03d8bffad4407c06e4596d0a77dfe05c04bc077c32d84b39c8251b6c3",
    "template.json": "85eae89e1f924ae11c1eac9ef8d72d82f241c9b0549f0ef55c5cb7efbe884b45",
    "template.sarif": "04e7e247628aa07a56f3ffa7708e2779718da658e9c248cb0cc003d4106a51cd",
    "template.table": "a285af1b9f2685475635515dd6f8a718175550c42a16ce229eb2eefe98094255",
}


def write_reports(directory: Path, out: Path) -> dict[str, str]:
    """Each input's table, SARIF and JSON reports, and its JSON with passes: name → sha256.

    The input directory's path (in SARIF locations and JSON origins) is written ``<in>``.
    """
    sys.path.insert(0, str(BENCH))
    try:
        import generate
    finally:
        sys.path.remove(str(BENCH))
    generate.generate(SIZE, SEED, directory)
    catalog = load_catalog()
    out.mkdir(parents=True, exist_ok=True)
    for name in INPUTS:
        stem = name.split(".")[0]
        for passed in (False, True):
            estate = read_estate([directory / name])
            assessment, report = run_scan(
                estate,
                catalog.framework_ids,
                scan_ts=SCAN_TS,
                catalog=catalog,
                record_passes=passed,
            )
            reports = Reports(report, assessment, include_passed=passed, files=[directory / name])
            formats = [Format.json] if passed else [Format.table, Format.sarif, Format.json]
            suffix = "-passed" if passed else ""
            reports.write([Destination(f, out / f"{stem}{suffix}.{f.value}") for f in formats])
    where = str(directory).encode()
    return {
        path.name: hashlib.sha256(path.read_bytes().replace(where, b"<in>")).hexdigest()
        for path in sorted(out.iterdir())
    }


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_reports_are_as_before(name: str, written: dict[str, str]) -> None:
    assert written[name] == GOLDEN[name], f"{name} changed"


def test_every_report_is_held() -> None:
    assert len(GOLDEN) == len(INPUTS) * 4


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    base = tmp_path_factory.mktemp("golden")
    return write_reports(base / "in", base / "out")


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as temporary:
        for report, digest in write_reports(
            Path(temporary) / "in", Path(temporary) / "out"
        ).items():
            print(f'    "{report}": "{digest}",')

"""Every check declares its fix, and every configuration fix is proved by a test here."""

from __future__ import annotations

from pathlib import Path

from tutela.scanner.catalog import load_catalog

HERE = Path(__file__).parent


def test_every_check_declares_a_fix() -> None:
    missing = [check.id for check in load_catalog().checks if check.fix is None]
    assert missing == []


def test_every_configuration_fix_is_proved_by_a_test() -> None:
    proofs = "\n".join(
        path.read_text(encoding="utf-8")
        for path in HERE.glob("test_*.py")
        if path.name != Path(__file__).name
    )
    unproved = [
        check.id
        for check in load_catalog().checks
        if check.fix is not None and not check.fix.manual and f'"{check.id}"' not in proofs
    ]
    assert not unproved, f"configuration fixes without a proof test: {unproved}"


def test_every_manual_fix_says_why() -> None:
    for check in load_catalog().checks:
        if check.fix is not None and check.fix.manual:
            assert len(check.fix.manual) >= 30, check.id

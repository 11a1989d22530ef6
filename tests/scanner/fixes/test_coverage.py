"""Every check declares its fix, and every configuration fix is proved by a test here."""

from __future__ import annotations

from pathlib import Path

from tutela.scanner.catalog import load_catalog

HERE = Path(__file__).parent

# Checks whose fix the fix model cannot state yet, and why (issue 16, IaC export).
NOT_YET_DECLARED = {
    "KV-KEY-EXPIRY": "an existing key's expiry is a data-plane change (set-attributes), not ARM",
    "AML-WS-IDENTITY": "needs a user-assigned identity id as a map key, and role grants",
    "AML-COMPUTE-IDLE-SHUTDOWN": "set by a POST action on an existing instance, not by a PUT",
    "RBAC-AI-KEY-READERS": "fixed per type (disableLocalAuth on AI services and Search); "
    "a fix cannot differ by resource type yet",
}


def test_every_check_declares_a_fix_or_is_a_known_gap() -> None:
    missing = {check.id for check in load_catalog().checks if check.fix is None}
    assert missing == set(NOT_YET_DECLARED)


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

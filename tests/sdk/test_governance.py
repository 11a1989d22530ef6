"""The SDK's governance calls against a real server: the demo's first governance scan runs at
start-up (the in-process scheduler), so its history is there to read and delete."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tests.sdk.conftest import LiveServer, Tenant
from tutela import Session
from tutela.sdk import GovernanceState, PermissionDeniedError


def first_scan(session: Session) -> GovernanceState:
    deadline = time.monotonic() + 60
    while True:
        state = session.governance.get()
        if state.history or time.monotonic() > deadline:
            return state
        time.sleep(0.2)


def test_read_choose_a_cadence_and_delete_history(
    server: LiveServer, new_tenant: Callable[[str], Tenant]
) -> None:
    with server.session() as session:
        state = first_scan(session)
        assert state.cadence == "daily"
        assert state.governance_enabled is True
        [entry] = state.history
        assert entry.report_id.startswith("COMP-")
        assert state.governance_score == entry.score
        listed = [r.report_id for r in session.reports.list(type="governance")]
        assert listed == [entry.report_id]

        slower = session.governance.set(cadence="biweekly")
        assert (slower.cadence, slower.plan_cadence) == ("biweekly", "daily")
        paused = session.governance.set(enabled=False)
        assert (paused.governance_enabled, paused.next_scan_ts) == (False, None)
        resumed = session.governance.set(enabled=True, cadence="daily")
        assert (resumed.governance_enabled, resumed.cadence) == (True, "daily")

        deleted = session.governance.delete_history(entry.report_id)
        assert (deleted.deleted, deleted.report_id) == (1, entry.report_id)
        assert session.governance.get().history == []
        with pytest.raises(ValueError, match="everything=True"):
            session.governance.delete_history()  # never a silent wipe
        assert session.governance.delete_history(everything=True).deleted == 0

    starter = new_tenant("starter")
    with server.session(starter.key) as session, pytest.raises(PermissionDeniedError) as raised:
        session.governance.get()
    assert "requires the 'professional' plan" in str(raised.value)

"""/exceptions: request, read, change, approve (four eyes), revoke; scopes, tenancy, audit."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.platform import Platform, auth
from tests.server.exceptions.helpers import (
    CHECK,
    REGISTRY,
    approve,
    audit_trail,
    body,
    in_days,
    request,
    set_expiry,
    today,
)
from tutela.server.auth.scopes import ROLE_SCOPES, Role, Scope
from tutela.server.exceptions import service

FOUR_EYES = "Four-eyes rule"


def test_a_member_requests_an_admin_approves_and_each_step_is_audited(
    any_platform: Platform,
) -> None:
    platform = any_platform
    tenant = platform.tenant("enterprise")
    _, member = platform.user(tenant, "member")
    _, admin = platform.user(tenant, "admin")
    _, auditor = platform.user(tenant, "auditor")

    response = platform.client.post("/exceptions", headers=auth(member), json=body())
    assert response.status_code == 201, response.text
    pending = response.json()
    assert pending["id"].startswith("exc_")
    assert response.headers["Location"] == f"/exceptions/{pending['id']}"
    assert (pending["check_id"], pending["resource"], pending["ticket"]) == (
        CHECK,
        REGISTRY,
        "CHG-1042",
    )
    assert (pending["status"], pending["active"], pending["approved_by"]) == (
        "pending",
        False,
        None,
    )
    assert pending["expires"] == in_days(30)
    assert pending["requested_by"].startswith("user")

    read = platform.client.get(f"/exceptions/{pending['id']}", headers=auth(auditor))
    assert read.status_code == 200
    assert read.json() == pending

    approved = approve(platform, admin, pending["id"])
    assert (approved["status"], approved["active"]) == ("approved", True)
    assert approved["approved_by"] != approved["requested_by"]
    assert approved["approved_at"] is not None

    events = audit_trail(platform, pending["id"])
    assert [e.action for e in events] == ["exception.requested", "exception.approved"]
    requested, accepted = events
    assert requested.tenant_id == tenant.id
    assert requested.actor.startswith(pending["requested_by"])
    assert requested.details["check_id"] == CHECK
    assert requested.details["expires"] == in_days(30)
    assert accepted.actor.startswith(approved["approved_by"])
    assert accepted.details["requested_by"] == pending["requested_by"]


def test_nobody_approves_what_they_requested_or_last_changed_whatever_their_role(
    any_platform: Platform,
) -> None:
    platform = any_platform
    tenant = platform.tenant("enterprise")
    _, admin = platform.user(tenant, "admin")

    own = request(platform, tenant.owner_key)["id"]
    refused = platform.client.post(f"/exceptions/{own}/approve", headers=tenant.headers)
    assert refused.status_code == 403
    assert FOUR_EYES in refused.json()["detail"]
    assert approve(platform, admin, own)["status"] == "approved"

    # The admin changes what it accepts: pending again, and the admin is now its requester.
    changed = platform.client.patch(
        f"/exceptions/{own}", headers=auth(admin), json={"expires": in_days(60)}
    )
    assert changed.status_code == 200, changed.text
    after = changed.json()
    assert (after["status"], after["active"], after["approved_by"]) == ("pending", False, None)
    assert after["expires"] == in_days(60)
    refused = platform.client.post(f"/exceptions/{own}/approve", headers=auth(admin))
    assert refused.status_code == 403
    assert FOUR_EYES in refused.json()["detail"]
    assert approve(platform, tenant.owner_key, own)["active"] is True

    actions = [e.action for e in audit_trail(platform, own)]
    assert actions == [
        "exception.requested",
        "exception.approved",
        "exception.changed",
        "exception.approved",
    ]
    change = audit_trail(platform, own)[2]
    assert change.details["before"] == {"expires": in_days(30)}
    assert change.details["after"] == {"expires": in_days(60)}
    assert change.details["was"] == "approved"


def test_scopes_auditors_read_members_request_only_owners_and_admins_approve(
    platform: Platform,
) -> None:
    assert {Scope.EXCEPTIONS_READ, Scope.EXCEPTIONS_WRITE, Scope.EXCEPTIONS_APPROVE} <= (
        ROLE_SCOPES[Role.OWNER] & ROLE_SCOPES[Role.ADMIN]
    )
    assert Scope.EXCEPTIONS_APPROVE not in ROLE_SCOPES[Role.MEMBER]
    tenant = platform.tenant("enterprise")
    _, member = platform.user(tenant, "member")
    _, auditor = platform.user(tenant, "auditor")
    other_member = platform.user(tenant, "member")[1]
    exception_id = request(platform, member)["id"]

    def status(method: str, path: str, key: str, **kwargs: object) -> int:
        return platform.client.request(method, path, headers=auth(key), **kwargs).status_code  # type: ignore[arg-type]

    one = f"/exceptions/{exception_id}"
    assert status("GET", "/exceptions", auditor) == 200
    assert status("GET", one, auditor) == 200
    assert status("POST", "/exceptions", auditor, json=body()) == 403
    assert status("PATCH", one, auditor, json={"reason": "x"}) == 403
    assert status("DELETE", one, auditor) == 403
    assert status("POST", f"{one}/approve", auditor) == 403
    # A member requests and changes, but approves nothing: not their own, nor another's.
    assert status("POST", f"{one}/approve", member) == 403
    assert status("POST", f"{one}/approve", other_member) == 403
    refused = platform.client.post(f"{one}/approve", headers=auth(other_member))
    assert "exceptions:approve" in refused.json()["detail"]
    assert platform.client.get(one, headers=auth(member)).json()["status"] == "pending"
    # A key holds only the scopes given: an owner's key without exceptions:approve cannot.
    narrow = platform.key(tenant, [Scope.EXCEPTIONS_READ, Scope.EXCEPTIONS_WRITE])
    assert status("POST", f"{one}/approve", narrow) == 403
    assert status("PATCH", one, narrow, json={"ticket": "CHG-2"}) == 200


def test_another_tenant_s_exception_is_404_and_never_listed(any_platform: Platform) -> None:
    platform = any_platform
    a, b = platform.tenant("enterprise"), platform.tenant("enterprise")
    exception_id = request(platform, a.owner_key)["id"]
    one = f"/exceptions/{exception_id}"
    for method, path, json in (
        ("GET", one, None),
        ("PATCH", one, {"reason": "theirs now"}),
        ("POST", f"{one}/approve", None),
        ("DELETE", one, None),
    ):
        response = platform.client.request(method, path, headers=b.headers, json=json)
        assert response.status_code == 404, (method, path)
        assert response.json() == {"detail": "Exception not found"}
    assert platform.client.get("/exceptions", headers=b.headers).json()["items"] == []
    listed = platform.client.get("/exceptions", headers=a.headers).json()["items"]
    assert [e["status"] for e in listed] == ["pending"]
    assert [e.action for e in audit_trail(platform, exception_id)] == ["exception.requested"]


def test_an_unknown_check_a_past_expiry_or_a_bad_field_is_a_clear_422(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    cases: list[tuple[dict[str, object], list[str], str]] = [
        (body(check_id="NO-SUCH-CHECK"), ["body", "check_id"], "Not a check id of the catalogue"),
        (body(expires=in_days(-1)), ["body", "expires"], "must be after today"),
        (body(expires=in_days(0)), ["body", "expires"], "must be after today"),
        (body(expires="next week"), ["body", "expires"], "YYYY-MM-DD"),
        (body(expires=4102444800), ["body", "expires"], "YYYY-MM-DD"),  # no Unix times
        (body(resource=""), ["body", "resource"], ""),
        (body(reason=""), ["body", "reason"], ""),
        (body(resource="/subscriptions/x\u001b[31m"), ["body"], "resource must be one line"),
        (body(approver="me"), ["body", "approver"], ""),
        ({k: v for k, v in body().items() if k != "reason"}, ["body", "reason"], ""),
    ]
    for sent, loc, message in cases:
        response = platform.client.post("/exceptions", headers=tenant.headers, json=sent)
        assert response.status_code == 422, (sent, response.text)
        [error, *_] = response.json()["detail"]
        assert error["loc"][: len(loc)] == loc, sent
        assert message in error["msg"], (sent, error)
        assert "NO-SUCH-CHECK" not in response.text  # the caller's text is never echoed
    assert platform.client.get("/exceptions", headers=tenant.headers).json()["items"] == []

    exception_id = request(platform, tenant.owner_key)["id"]
    one = f"/exceptions/{exception_id}"
    for change, loc in (
        ({"reason": None}, ["body", "reason"]),
        ({"expires": None}, ["body", "expires"]),
        ({"expires": in_days(-3)}, ["body", "expires"]),
        ({"check_id": "AKS-RBAC"}, ["body", "check_id"]),  # what it accepts is not changed
    ):
        response = platform.client.patch(one, headers=tenant.headers, json=change)
        assert response.status_code == 422, (change, response.text)
        assert response.json()["detail"][0]["loc"][: len(loc)] == loc, change

    # A request left pending past its expiry date can no longer be approved as it is.
    _, admin = platform.user(tenant, "admin")
    set_expiry(platform, exception_id, today())
    late = platform.client.post(f"{one}/approve", headers=auth(admin))
    assert late.status_code == 422
    assert "expiry date has passed" in late.json()["detail"][0]["msg"]
    platform.client.patch(one, headers=tenant.headers, json={"expires": in_days(5)})
    assert approve(platform, admin, exception_id)["expires"] == in_days(5)


def test_revoking_keeps_the_exception_revoked_and_frozen(any_platform: Platform) -> None:
    platform = any_platform
    tenant = platform.tenant("enterprise")
    _, admin = platform.user(tenant, "admin")
    exception_id = request(platform, tenant.owner_key)["id"]
    one = f"/exceptions/{exception_id}"
    approve(platform, admin, exception_id)
    again = platform.client.post(f"{one}/approve", headers=tenant.headers)
    assert again.status_code == 409
    assert "already" in again.json()["detail"] or "approved" in again.json()["detail"]

    revoked = platform.client.delete(one, headers=auth(admin))
    assert revoked.status_code == 200, revoked.text
    assert (revoked.json()["status"], revoked.json()["active"]) == ("revoked", False)
    assert revoked.json()["revoked_by"] == revoked.json()["approved_by"]
    assert platform.client.get(one, headers=tenant.headers).json()["status"] == "revoked"
    assert platform.client.delete(one, headers=tenant.headers).status_code == 200  # unchanged
    assert platform.client.patch(one, headers=auth(admin), json={"reason": "r"}).status_code == 409
    assert platform.client.post(f"{one}/approve", headers=tenant.headers).status_code == 409
    assert [e.action for e in audit_trail(platform, exception_id)] == [
        "exception.requested",
        "exception.approved",
        "exception.revoked",
    ]


def test_the_list_filters_and_pages_newest_first(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    _, admin = platform.user(tenant, "admin")
    soon = request(platform, tenant.owner_key, expires=in_days(3))["id"]
    later = request(platform, tenant.owner_key, check_id="AKS-RBAC", expires=in_days(90))["id"]
    third = request(platform, tenant.owner_key, resource="/subscriptions/*/rg-sandbox/*")["id"]
    approve(platform, admin, soon)

    def ids(**params: str) -> list[str]:
        response = platform.client.get("/exceptions", headers=tenant.headers, params=params)
        assert response.status_code == 200, response.text
        return [e["id"] for e in response.json()["items"]]

    assert ids() == [third, later, soon]
    assert ids(status="approved") == [soon]
    assert ids(status="pending") == [third, later]
    assert ids(check_id="AKS-RBAC") == [later]
    assert ids(expiring_before=in_days(31)) == [third, soon]
    for bad in ({"status": "expired"}, {"expiring_before": "0"}):
        response = platform.client.get("/exceptions", headers=tenant.headers, params=bad)
        assert response.status_code == 422, bad

    first = platform.client.get("/exceptions", headers=tenant.headers, params={"limit": 2}).json()
    assert [e["id"] for e in first["items"]] == [third, later]
    rest = platform.client.get(
        "/exceptions", headers=tenant.headers, params={"limit": 2, "cursor": first["next_cursor"]}
    ).json()
    assert ([e["id"] for e in rest["items"]], rest["next_cursor"]) == ([soon], None)
    assert dt.date.fromisoformat(rest["items"][0]["expires"]) == today() + dt.timedelta(days=3)


def test_approvals_at_once_approve_it_once(any_platform: Platform) -> None:
    platform = any_platform
    tenant = platform.tenant("enterprise")
    approvers = [platform.user(tenant, "admin")[1] for _ in range(3)]
    exception_id = request(platform, tenant.owner_key)["id"]

    def approve_now(key: str) -> int:
        path = f"/exceptions/{exception_id}/approve"
        return platform.client.post(path, headers=auth(key)).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = sorted(pool.map(approve_now, approvers * 2))

    assert statuses == [200, 409, 409, 409, 409, 409]
    actions = [e.action for e in audit_trail(platform, exception_id)]
    assert actions == ["exception.requested", "exception.approved"]


def test_a_request_repeated_with_its_idempotency_key_is_made_once(platform: Platform) -> None:
    tenant = platform.tenant("enterprise")
    headers = {**tenant.headers, "Idempotency-Key": "exc-retry-1"}
    first = platform.client.post("/exceptions", headers=headers, json=body())
    again = platform.client.post("/exceptions", headers=headers, json=body())
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers.get("Idempotency-Replayed") == "true"
    assert again.json()["id"] == first.json()["id"]
    listed = platform.client.get("/exceptions", headers=tenant.headers).json()["items"]
    assert [e["id"] for e in listed] == [first.json()["id"]]


def test_open_exceptions_are_capped_per_tenant(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pending and approved ones count; revoked and expired ones do not."""
    monkeypatch.setattr(service, "MAX_OPEN_EXCEPTIONS", 2)
    tenant = platform.tenant("enterprise")
    first = request(platform, tenant.owner_key)["id"]
    request(platform, tenant.owner_key)
    refused = platform.client.post("/exceptions", headers=tenant.headers, json=body())
    assert refused.status_code == 409, refused.text
    assert refused.json()["detail"].startswith("Your tenant already holds 2 open exceptions")
    other = platform.tenant("enterprise")  # another tenant's count is its own
    request(platform, other.owner_key)

    revoked = platform.client.delete(f"/exceptions/{first}", headers=tenant.headers)
    assert revoked.status_code == 200, revoked.text
    request(platform, tenant.owner_key)

"""Which key seals a tenant's new document and which opens a stored one.

Sealing follows the tenant's mode today: the current version of the platform key (``pmk``,
``platform_keys``) or the current version of its Key Vault secret/key (``cmk``, ``key_ref`` the
versioned id). Opening
follows the row: a document opens with the exact key that sealed it, so reports sealed before a
rotation open with their old version, and CMK-era reports still open after a switch back to PMK.

While a tenant's key cannot be used, nothing falls back to the platform key: the request fails
with 503 (``CustomerKeyUnavailable``) and the tenant is marked ``cmk_blocked`` with the cause in
``cmk_last_error``; the next successful use of its vault clears the mark. Those marks are
written in their own short transaction once the caller's transaction has ended (it rolls back
with the error; on SQLite it holds the only write lock until then).

CMK wrappers are cached per (tenant, key ref, stored credentials) for ``CACHE_SECONDS``: a diff
opens two reports and a client pages through several, and each would otherwise sign in to Entra
and read the vault again. A failure is never cached, and a wrapper whose vault fails is dropped
at once. A ``key`` wraps and unwraps in Key Vault on every use, so revoking it takes effect on
the next request; a ``secret`` wrapper holds the derived key, so a revoked secret still opens
documents through a cached wrapper for at most ``CACHE_SECONDS``. A cached wrapper is shared by
concurrent requests: Azure SDK clients are thread-safe by design
(https://learn.microsoft.com/dotnet/azure/sdk/thread-safety states the cross-language rule).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from tutela.server.crypto import KEY_BYTES
from tutela.server.db import transaction
from tutela.server.encryption.alerts import send_key_unavailable
from tutela.server.encryption.vault import BLOCKING_KINDS, KeyMaterial, VaultError, cmk_wrapper
from tutela.server.errors import ServiceUnavailable
from tutela.server.reports.envelope import KeyWrapper
from tutela.server.tenants.models import Tenant
from tutela.server.tenants.service import open_credentials

if TYPE_CHECKING:
    from tutela.server.runtime import Runtime

log = logging.getLogger("tutela.encryption")

CMK = "cmk"
_PROBE = b"tutela/key-check/v1"
CACHE_SECONDS = 60.0


class CustomerKeyUnavailable(ServiceUnavailable):
    """The tenant's Key Vault key cannot be used right now: nothing was read or written."""

    def __init__(self, cause: str) -> None:
        super().__init__(
            f"Your customer-managed key is unavailable: {cause}. Documents encrypted with it "
            "cannot be written or read until access is restored; nothing was stored under "
            "another key."
        )


def tenant_material(tenant: Tenant) -> KeyMaterial | None:
    """The Key Vault secret or key a CMK tenant configured; None when its settings are partial."""
    if tenant.cmk_vault_url is None:
        return None
    if tenant.cmk_secret_name:
        return KeyMaterial(tenant.cmk_vault_url, tenant.cmk_secret_name, "secret")
    if tenant.cmk_key_name:
        return KeyMaterial(tenant.cmk_vault_url, tenant.cmk_key_name, "key")
    return None


class Keyring:
    """The wrappers of one runtime: its platform key and the tenants' Key Vault keys."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._lock = threading.Lock()
        self._cached: dict[tuple[str, str, bytes | None], tuple[float, KeyWrapper]] = {}

    def sealing(self, session: Session, tenant: Tenant | None) -> KeyWrapper:
        """The wrapper a new document of the tenant (None: of an operator) is sealed with.

        A CMK wrapper is proved first by a round trip through the vault: a cached RSA key wraps
        with its public half locally, so only unwrapping shows that access was revoked, and
        nothing is sealed under a key the tenant has taken away (503 instead).
        """
        if tenant is None or tenant.encryption_mode != CMK:
            return self._runtime.platform_keys.sealing(session)
        try:
            material = tenant_material(tenant)
            if material is None or tenant.cmk_key_version is None:
                raise VaultError("unusable", "the tenant's Key Vault settings are incomplete")
            ref = material.ref(tenant.cmk_key_version)
        except VaultError as exc:
            raise self._vault_failed(session, tenant.id, exc) from None
        wrapper = self._cmk(session, tenant, ref)
        probe = secrets.token_bytes(KEY_BYTES)
        if wrapper.unwrap(wrapper.wrap(probe, _PROBE), _PROBE) != probe:
            raise self._failed(session, tenant.id, "unusable", f"{ref} did not unwrap its own wrap")
        return wrapper

    def check_sealing(self, session: Session, tenant: Tenant) -> None:
        """503 now when the tenant's key cannot seal: before a scan runs for minutes only to be
        refused when its report is stored."""
        if tenant.encryption_mode == CMK:
            self.sealing(session, tenant)

    def opening(
        self, session: Session, tenant_id: str, key_mode: str | None, key_ref: str | None
    ) -> KeyWrapper:
        """The wrapper of the exact key that sealed a stored row."""
        if key_mode != CMK:
            return self._runtime.platform_keys.opening(session, key_ref)
        tenant = session.get(Tenant, tenant_id)
        if tenant is None or key_ref is None:  # (a CMK row always has its ref: migration 0008)
            raise self._failed(session, tenant_id, "unusable", "the document does not name its key")
        return self._cmk(session, tenant, key_ref)

    def forget(self) -> None:
        """Drop every cached wrapper: the next use of each key asks its vault again."""
        with self._lock:
            self._cached.clear()

    def _cmk(self, session: Session, tenant: Tenant, ref: str) -> KeyWrapper:
        credentials = open_credentials(tenant, self._runtime.keys.credentials_key)
        if credentials is None:
            raise self._failed(
                session, tenant.id, "sign_in", "no Azure service principal is stored to reach it"
            )
        slot = (tenant.id, ref, tenant.azure_credentials)
        now = time.monotonic()
        with self._lock:
            cached = self._cached.get(slot)
        if cached is not None and now - cached[0] < CACHE_SECONDS:
            wrapper = cached[1]
        else:
            try:
                wrapper = cmk_wrapper(ref, credentials, self._runtime.azure_transport)
            except VaultError as exc:
                raise self._vault_failed(session, tenant.id, exc) from None
            with self._lock:
                self._cached[slot] = (now, wrapper)
        return _Guarded(self, session, tenant, slot, wrapper)

    def _vault_failed(
        self, session: Session, tenant_id: str, exc: VaultError
    ) -> CustomerKeyUnavailable:
        return self._failed(session, tenant_id, exc.kind, exc.detail)

    def _failed(
        self, session: Session, tenant_id: str, kind: str, detail: str
    ) -> CustomerKeyUnavailable:
        # As the key check records it: a sign-in refusal is the service principal's problem,
        # reported but not a blocked key.
        blocked = True if kind in BLOCKING_KINDS else None
        log.warning("cmk_unavailable tenant=%s kind=%s", tenant_id, kind)
        _after_transaction(
            session,
            lambda: self._mark(tenant_id, blocked=blocked, error=f"{kind}: {detail}"),
        )
        return CustomerKeyUnavailable(f"{detail} ({kind.replace('_', ' ')})")

    def _succeeded(self, session: Session, tenant: Tenant) -> None:
        # As a successful key check does: the key works again, the last error is history.
        if tenant.cmk_blocked or tenant.cmk_last_error is not None:
            tenant_id = tenant.id
            log.info("cmk_restored tenant=%s", tenant_id)
            _after_transaction(session, lambda: self._mark(tenant_id, blocked=False, error=""))

    def _drop(self, slot: tuple[str, str, bytes | None]) -> None:
        with self._lock:
            self._cached.pop(slot, None)

    def _mark(self, tenant_id: str, *, blocked: bool | None, error: str | None = None) -> None:
        """Record the key's state on the tenant; the owner is mailed when it becomes blocked."""
        with transaction(self._runtime.sessions) as session:
            tenant = session.get(Tenant, tenant_id)
            if tenant is None:
                return
            became_blocked = blocked is True and not tenant.cmk_blocked
            if blocked is not None:
                tenant.cmk_blocked = blocked
            if error is not None:
                tenant.cmk_last_error = error[:500] or None
        if became_blocked:
            send_key_unavailable(self._runtime.settings, tenant, error or "")


class _Guarded:
    """A tenant's CMK wrapper whose vault failures become 503s and mark the tenant blocked."""

    mode = CMK

    def __init__(
        self,
        keyring: Keyring,
        session: Session,
        tenant: Tenant,
        slot: tuple[str, str, bytes | None],
        inner: KeyWrapper,
    ) -> None:
        self.key_ref: str | None = slot[1]
        self._keyring, self._session, self._tenant = keyring, session, tenant
        self._slot, self._inner = slot, inner
        self._restored = False

    def wrap(self, data_key: bytes, context: bytes) -> bytes:
        return self._use(lambda: self._inner.wrap(data_key, context))

    def unwrap(self, wrapped: bytes, context: bytes) -> bytes:
        return self._use(lambda: self._inner.unwrap(wrapped, context))

    def _use(self, operation: Callable[[], bytes]) -> bytes:
        try:
            result = operation()
        except VaultError as exc:
            self._keyring._drop(self._slot)
            raise self._keyring._vault_failed(self._session, self._tenant.id, exc) from None
        if not self._restored:
            self._restored = True
            self._keyring._succeeded(self._session, self._tenant)
        return result


def _after_transaction(session: Session, action: Callable[[], None]) -> None:
    """Run ``action`` once the session's outermost transaction has ended, however it ended;
    at once when none is open. A failure of ``action`` is logged, never raised over the
    error that is on its way to the caller."""

    def run() -> None:
        try:
            action()
        except Exception:
            log.exception("cmk_state_not_recorded")

    if not session.in_transaction():
        run()
        return
    done = False

    def ended(_session: Session, ending: SessionTransaction) -> None:
        nonlocal done
        if ending.parent is None and not done:
            done = True
            run()

    event.listen(session, "after_transaction_end", ended)

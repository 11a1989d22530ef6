"""HTTP for the tenant's encryption: status, customer-managed keys, rotation, back to PMK."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from tutela.server.auth.caller import Caller
from tutela.server.auth.dependencies import Authorize
from tutela.server.auth.scopes import Scope
from tutela.server.encryption import downgrade, service
from tutela.server.encryption.schemas import (
    CmkEnable,
    CmkEnabled,
    EncryptionStatus,
    EncryptionStatusExtended,
    KeyRotation,
    PmkConfirmed,
    PmkRequested,
)
from tutela.server.runtime import RuntimeDep, SessionDep
from tutela.server.schemas import ErrorOut

router = APIRouter(prefix="/tenant/encryption", tags=["encryption"])

EncryptionReader = Annotated[Caller, Depends(Authorize(Scope.ENCRYPTION_READ))]
EncryptionWriter = Annotated[Caller, Depends(Authorize(Scope.ENCRYPTION_WRITE))]
CmkEnabler = Annotated[Caller, Depends(Authorize(Scope.ENCRYPTION_WRITE, min_plan="professional"))]


def _errors(**described: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` from ``e400="…"``: this route's own meaning of each error status."""
    return {
        int(code.removeprefix("e")): {"model": ErrorOut, "description": text}
        for code, text in described.items()
    }


@router.get("", summary="Customer-managed key status (the seed's fields)")
def get_encryption(
    session: SessionDep, runtime: RuntimeDep, caller: EncryptionReader
) -> EncryptionStatus:
    return service.status(session, caller, runtime.catalog)


@router.get(
    "/status", summary="Encryption status with the mode and its last 10 changes (newest first)"
)
def get_encryption_status(
    session: SessionDep, runtime: RuntimeDep, caller: EncryptionReader
) -> EncryptionStatusExtended:
    return service.extended_status(session, caller, runtime.catalog)


@router.post(
    "/cmk",
    summary="Enable customer-managed keys: a Key Vault secret or key, tested before saving",
    description="Key Vault is reached with the stored service principal (PUT "
    "/tenant/credentials). Give exactly one of `key_vault_secret_name` and `key_vault_key_name`; "
    "a key is preferred (wrap/unwrap happen in the vault; the key never leaves it).",
    responses=_errors(
        e400="CMK connectivity test failed: the detail names the cause (vault unreachable, "
        "sign-in refused, not found, access denied, unusable as a key); or the body could not "
        "be read as JSON: not UTF-8, or nested too deeply",
        e403="Outside the key's scopes, or the plan is below Professional",
        e409="No Azure service principal is stored",
        e422="Not an Azure Key Vault URL, or not exactly one of the secret and key names",
    ),
)
def enable_cmk(body: CmkEnable, runtime: RuntimeDep, caller: CmkEnabler) -> CmkEnabled:
    return service.enable_cmk(runtime, caller, body)


@router.post(
    "/rotate",
    summary="Re-read the Key Vault key's current version; a new one is recorded and mailed",
    responses=_errors(
        e400="Customer-managed keys are not configured",
        e409="No Azure service principal is stored",
        e503="The vault refused or did not answer; the detail names the cause (recorded as "
        "cmk_last_error)",
    ),
)
def rotate(runtime: RuntimeDep, caller: EncryptionWriter) -> KeyRotation:
    return service.rotate(runtime, caller)


@router.post(
    "/pmk",
    summary="Start the switch back to the platform key: a one-time link is mailed to the owner",
    responses=_errors(
        e400="Customer-managed keys are not on",
        e503="The confirmation email could not be sent; nothing changed",
    ),
)
def request_pmk(runtime: RuntimeDep, caller: EncryptionWriter) -> PmkRequested:
    return downgrade.request_pmk(runtime, caller)


@router.post(
    "/confirm-pmk",
    summary="Complete the switch back to the platform key with the mailed one-time token",
    responses=_errors(
        e400="No pending downgrade request found",
        e403="Invalid token (or outside the key's scopes)",
        e410="Token expired — restart the process",
    ),
)
def confirm_pmk(
    runtime: RuntimeDep,
    caller: EncryptionWriter,
    token: Annotated[
        str, Query(min_length=1, max_length=200, description="The token from the email's link")
    ],
) -> PmkConfirmed:
    return downgrade.confirm_pmk(runtime, caller, token)

"""Request and response bodies of /tenant/encryption*: the seed's fields, names and shapes."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from tutela.server.schemas import InputModel, OutputModel, Timestamp

# Key Vault object names: 1-127 letters, digits and dashes (Microsoft Learn, "About keys,
# secrets, and certificates": object identifiers).
VaultObjectName = Annotated[
    str, Field(min_length=1, max_length=127, pattern=r"^[0-9A-Za-z-]+$", examples=["tutela-kek"])
]
EncryptionMode = Literal["pmk", "cmk"]


class CmkEnable(InputModel):
    """The Key Vault and the secret or the key (exactly one) to wrap data keys with."""

    key_vault_url: str = Field(
        max_length=300,
        description="The vault's address: https://<name>.vault.azure.net/ (or a sovereign "
        "cloud's vault host); nothing else is accepted.",
        examples=["https://your-kv.vault.azure.net/"],
    )
    key_vault_secret_name: VaultObjectName | None = Field(
        default=None, description="A secret holding at least 32 bytes of key material."
    )
    key_vault_key_name: VaultObjectName | None = Field(
        default=None,
        description="A key allowing wrapKey and unwrapKey (preferred: it never leaves the vault).",
    )

    @model_validator(mode="after")
    def _exactly_one_name(self) -> CmkEnable:
        if (self.key_vault_secret_name is None) == (self.key_vault_key_name is None):
            raise ValueError("give exactly one of key_vault_secret_name and key_vault_key_name")
        return self


class EncryptionEventOut(OutputModel):
    mode: EncryptionMode
    changed_at: Timestamp
    changed_by: str
    previous_mode: EncryptionMode
    reason: str = Field(description="cmk_configure, cmk_rotate or pmk_confirm.")
    vault_uri: str | None
    key_name: str | None
    key_version: str | None


class EncryptionStatus(OutputModel):
    """``GET /tenant/encryption``: the seed's fields, plus the key's name when a key is used."""

    plan: str
    cmk_supported: bool
    cmk_configured: bool
    key_vault_url: str | None
    key_vault_secret_name: str | None
    key_vault_key_name: str | None = Field(
        description="Set instead of key_vault_secret_name when a Key Vault key is used."
    )
    cmk_key_version: str | None
    cmk_verified_at: Timestamp | None
    cmk_blocked: bool = Field(
        description="True while the vault refuses or cannot be reached: CMK reports cannot be "
        "read or written until it answers again."
    )
    cmk_last_error: str | None
    cmk_downgrade_pending: bool
    upgrade_required: bool


class EncryptionStatusExtended(EncryptionStatus):
    """``GET /tenant/encryption/status``: the mode and its last 10 changes, newest first."""

    encryption_mode: EncryptionMode
    encryption_mode_history: list[EncryptionEventOut]


class CmkEnabled(OutputModel):
    ok: bool = True
    message: str
    key_version: str
    cmk_verified_at: Timestamp


class KeyRotation(OutputModel):
    ok: bool = True
    rotated: bool
    old_version: str | None
    new_version: str
    cmk_verified_at: Timestamp
    message: str


class PmkRequested(OutputModel):
    ok: bool = True
    pending: bool = True
    email_sent: bool
    message: str


class PmkConfirmed(OutputModel):
    ok: bool = True
    mode: EncryptionMode = "pmk"
    cmk_was_accessible: bool
    warning: str | None
    message: str

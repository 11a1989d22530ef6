"""A tenant's Azure Key Vault: its validated address, its secret's or key's current version, and
the ``KeyWrapper`` that wraps data keys with one version of it (encryption mode ``cmk``).

The vault is reached as the tenant's own service principal through azure-identity and the Key
Vault client libraries. Two kinds of key material:

- a **key** (preferred): an RSA or RSA-HSM key allowing ``wrapKey``/``unwrapKey``. Data keys are
  wrapped with RSA-OAEP-256 and unwrapped by the vault, so the key never leaves it; revoking
  ``unwrapKey`` or disabling the key takes effect on the next read.
- a **secret**: its value is base64 of at least 32 random bytes (``openssl rand -base64 32``).
  Tutela reads the value and derives a key-encryption key from it (HKDF), then seals data keys as
  the platform key does. The value is held in memory only by its wrapper, as the derived key,
  and never logged; the keyring keeps a wrapper at most ``keyring.CACHE_SECONDS``.

Every failure is a ``VaultError`` whose ``kind`` says what went wrong and whose ``detail`` is one
line that never holds the client secret, a token or a secret's value.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final, Literal, NoReturn
from urllib.parse import urlsplit

from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.identity import AzureAuthorityHosts, ClientSecretCredential
from azure.keyvault.keys import KeyClient, KeyType, KeyVaultKey
from azure.keyvault.keys.crypto import CryptographyClient, KeyWrapAlgorithm
from azure.keyvault.secrets import SecretClient

from tutela.scanner.sources.azure_arm import Transport
from tutela.scanner.sources.azure_identity import first_line, identity_reason, redacted
from tutela.server.crypto import KEY_BYTES, DecryptionError, derive_key, seal, unseal
from tutela.server.tenants.service import AzureCredentials

VaultErrorKind = Literal[
    "invalid_url", "sign_in", "unreachable", "not_found", "access_denied", "unusable"
]
MaterialKind = Literal["secret", "key"]


# The causes that mark a tenant's key blocked: the vault answered, or could not be reached, and the
# key cannot be used. A refused sign-in is the stored credentials' fault, not the key's.
BLOCKING_KINDS = frozenset({"unreachable", "access_denied", "not_found", "unusable"})


class VaultError(Exception):
    """The vault cannot be used: ``kind`` names the cause, ``detail`` says it in one line."""

    def __init__(self, kind: VaultErrorKind, detail: str) -> None:
        super().__init__(detail)
        self.kind: VaultErrorKind = kind
        self.detail = detail


# Key Vault's DNS suffix in each Azure cloud (``AzureKeyVaultDnsSuffix`` of Az PowerShell's
# Get-AzEnvironment), and where that cloud's service principals sign in. Azure Germany is closed.
_CLOUD_AUTHORITIES: Final = {
    "vault.azure.net": AzureAuthorityHosts.AZURE_PUBLIC_CLOUD,
    "vault.azure.cn": AzureAuthorityHosts.AZURE_CHINA,
    "vault.usgovcloudapi.net": AzureAuthorityHosts.AZURE_GOVERNMENT,
}
# Vault names: 3-24 letters, digits and hyphens, a letter first, no "--", no hyphen last.
_VAULT_NAME: Final = re.compile(r"[a-z](?!.*--)[a-z0-9-]{1,22}[a-z0-9]")
# Secret and key names: 1-127 letters, digits and hyphens; versions (32 hex digits in Key
# Vault) are only held to letters and digits, so they cannot reshape a URL.
_OBJECT_NAME: Final = re.compile(r"[0-9A-Za-z-]{1,127}")
_VERSION: Final = re.compile(r"[0-9A-Za-z]{1,64}")
_URL_SHAPE: Final = "an Azure Key Vault URL: https://<vault-name>.vault.azure.net/"
_KEK_PURPOSE: Final = "tutela/cmk-secret-kek/v1"
_RSA_TYPES: Final = frozenset({KeyType.rsa, KeyType.rsa_hsm})


def vault_url(url: str) -> str:
    """``https://<name>.vault.azure.net/`` (or a sovereign cloud's host), or ``invalid_url``.

    The server sends the tenant's credentials to this address, so nothing but a Key Vault host
    passes: no other host, port, user info, path, query or fragment, and plain ASCII only (no
    look-alike Unicode host). The text is never echoed back.
    """
    if not url.isascii() or not url.isprintable() or any(c in url for c in " \\"):
        _invalid(f"must be {_URL_SHAPE}, in plain ASCII without spaces or backslashes")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        _invalid(f"must be {_URL_SHAPE}")
    if parts.scheme.lower() != "https":
        _invalid(f"must use https: {_URL_SHAPE}")
    if "@" in parts.netloc:
        _invalid(f"must not hold a user name or password: {_URL_SHAPE}")
    if port is not None or parts.netloc.endswith(":"):
        _invalid(f"must not name a port: {_URL_SHAPE}")
    if parts.path not in ("", "/") or parts.query or parts.fragment or url[-1] in "?#":
        _invalid(
            f"must be the vault's address alone, without a path, query or fragment: {_URL_SHAPE}"
        )
    name, _, suffix = parts.netloc.lower().partition(".")
    if suffix not in _CLOUD_AUTHORITIES or not _VAULT_NAME.fullmatch(name):
        _invalid(f"must be {_URL_SHAPE} (or a sovereign cloud's vault host)")
    return f"https://{name}.{suffix}/"


def _invalid(detail: str) -> NoReturn:
    raise VaultError("invalid_url", f"key_vault_url {detail}")


@dataclass(frozen=True)
class KeyMaterial:
    """The vault secret or key a tenant configured; the vault URL is validated and normalised."""

    vault_url: str
    name: str
    kind: MaterialKind

    def __post_init__(self) -> None:
        object.__setattr__(self, "vault_url", vault_url(self.vault_url))
        if self.kind not in ("secret", "key"):
            raise VaultError("invalid_url", f"unknown Key Vault object kind {self.kind!r}")
        if not _OBJECT_NAME.fullmatch(self.name):
            raise VaultError(
                "invalid_url",
                f"a Key Vault {self.kind} name is 1-127 letters, digits and hyphens",
            )

    @property
    def label(self) -> str:
        """``Secret 'name'`` / ``Key 'name'``, as details name it."""
        return f"{self.kind.capitalize()} '{self.name}'"

    def ref(self, version: str) -> str:
        """The versioned id stored in ``key_ref``: ``https://<vault>/secrets/<name>/<version>``."""
        if not _VERSION.fullmatch(version):
            raise VaultError("invalid_url", "a Key Vault version is letters and digits only")
        return f"{self.vault_url}{self.kind}s/{self.name}/{version}"

    @staticmethod
    def from_ref(ref: str) -> tuple[KeyMaterial, str]:
        """(material, version) of a ``key_ref``."""
        parts = urlsplit(ref)
        segments = parts.path.split("/")
        if (
            len(segments) != 4
            or segments[0]
            or segments[1] not in ("secrets", "keys")
            or parts.query
            or parts.fragment
        ):
            raise VaultError(
                "invalid_url", "a key_ref is https://<vault>/<secrets|keys>/<name>/<version>"
            )
        kind: MaterialKind = "secret" if segments[1] == "secrets" else "key"
        material = KeyMaterial(f"{parts.scheme}://{parts.netloc}/", segments[2], kind)
        material.ref(segments[3])  # validates the version
        return material, segments[3]


def current_version(
    material: KeyMaterial, credentials: AzureCredentials, transport: Transport | None
) -> str:
    """The current version of the tenant's secret or key, once it is proved usable."""
    credential = _sign_in(material, credentials, transport)
    if material.kind == "secret":
        with (
            SecretClient(material.vault_url, credential, transport=transport) as client,
            _translated(material, credentials, "get"),
        ):
            secret = client.get_secret(material.name)
        _secret_kek(material, secret.value)
        return _versioned(material, secret.properties.version)
    with (
        KeyClient(material.vault_url, credential, transport=transport) as keys,
        _translated(material, credentials, "get"),
    ):
        key = keys.get_key(material.name)
    _check_key(material, key)
    version = _versioned(material, key.properties.version)
    # Reading the key does not prove the service principal may wrap and unwrap with it.
    wrapper = VaultKeyWrapper(material.ref(version), credential, credentials, transport)
    probe = secrets.token_bytes(KEY_BYTES)
    try:
        unwrapped = wrapper.unwrap(wrapper.wrap(probe, b""), b"")
    except DecryptionError:
        unwrapped = b""
    if unwrapped != probe:
        raise VaultError(
            "unusable", f"{material.label} in {material.vault_url} did not unwrap what it wrapped"
        )
    return version


def _versioned(material: KeyMaterial, version: str | None) -> str:
    if not version:
        raise VaultError("unusable", f"{material.label} in {material.vault_url} has no version")
    return version


def cmk_wrapper(
    ref: str, credentials: AzureCredentials, transport: Transport | None
) -> VaultSecretWrapper | VaultKeyWrapper:
    """The ``KeyWrapper`` for one versioned secret or key (``key_ref``); it signs in lazily."""
    material, _ = KeyMaterial.from_ref(ref)
    if material.kind == "secret":
        return VaultSecretWrapper(ref, credentials, transport)
    return VaultKeyWrapper(ref, None, credentials, transport)


class VaultSecretWrapper:
    """Seals data keys under a key derived from one version of a Key Vault secret.

    The secret is read on first use and kept, as the derived key only, for this object's life.
    """

    mode = "cmk"

    def __init__(
        self, ref: str, credentials: AzureCredentials, transport: Transport | None
    ) -> None:
        self.key_ref: str | None = ref  # KeyWrapper's attribute; always set under cmk
        self._material, self._version = KeyMaterial.from_ref(ref)
        self._credentials = credentials
        self._transport = transport
        self._kek: bytes | None = None

    def wrap(self, data_key: bytes, context: bytes) -> bytes:
        return seal(self._key(), data_key, context)

    def unwrap(self, wrapped: bytes, context: bytes) -> bytes:
        return unseal(self._key(), wrapped, context)

    def _key(self) -> bytes:
        if self._kek is None:
            material, credentials = self._material, self._credentials
            credential = _sign_in(material, credentials, self._transport)
            with (
                SecretClient(material.vault_url, credential, transport=self._transport) as client,
                _translated(material, credentials, "get", self._version),
            ):
                secret = client.get_secret(material.name, self._version)
            self._kek = _secret_kek(material, secret.value)
        return self._kek


class VaultKeyWrapper:
    """Wraps data keys with one version of an RSA Key Vault key (RSA-OAEP-256).

    Unwrapping happens in the vault. The tenant and document are bound by the body's own
    sealing, so a wrapped key moved to another row opens nothing there.
    """

    mode = "cmk"

    def __init__(
        self,
        ref: str,
        credential: ClientSecretCredential | None,
        credentials: AzureCredentials,
        transport: Transport | None,
    ) -> None:
        self.key_ref: str | None = ref  # KeyWrapper's attribute; always set under cmk
        self._material, self._version = KeyMaterial.from_ref(ref)
        self._credential = credential
        self._credentials = credentials
        self._transport = transport
        self._crypto: CryptographyClient | None = None

    def wrap(self, data_key: bytes, context: bytes) -> bytes:
        with _translated(self._material, self._credentials, "wrapKey", self._version):
            result = self._client().wrap_key(KeyWrapAlgorithm.rsa_oaep_256, data_key)
        return result.encrypted_key

    def unwrap(self, wrapped: bytes, context: bytes) -> bytes:
        with _translated(self._material, self._credentials, "unwrapKey", self._version):
            try:
                return self._client().unwrap_key(KeyWrapAlgorithm.rsa_oaep_256, wrapped).key
            except HttpResponseError as exc:
                if exc.status_code != 400:
                    raise
                # The vault cannot decrypt these bytes: tampered, or wrapped by another key.
                raise DecryptionError("integrity check failed") from None

    def _client(self) -> CryptographyClient:
        if self._crypto is None:
            if self._credential is None:
                self._credential = _sign_in(self._material, self._credentials, self._transport)
            self._crypto = CryptographyClient(
                self._material.ref(self._version), self._credential, transport=self._transport
            )
        return self._crypto


def _sign_in(
    material: KeyMaterial, credentials: AzureCredentials, transport: Transport | None
) -> ClientSecretCredential:
    """A credential holding a Key Vault token, so a refusal by Entra ID is told apart."""
    suffix = material.vault_url.removeprefix("https://").rstrip("/").split(".", 1)[1]
    try:
        credential = ClientSecretCredential(
            credentials.tenant_id,
            credentials.client_id,
            credentials.client_secret,
            authority=_CLOUD_AUTHORITIES[suffix],
            transport=transport,
        )
        # enable_cae: the Key Vault clients ask for CAE tokens, so this one is reused.
        credential.get_token(f"https://{suffix}/.default", enable_cae=True)
    except ValueError as exc:  # an empty or malformed tenant or client id
        raise VaultError("sign_in", redacted(f"cannot sign in: {exc}", credentials)) from None
    except ClientAuthenticationError as exc:
        reason = identity_reason(exc)
        # azure-identity raises this for Entra's refusals (AADSTS…) and for no answer at all.
        kind: VaultErrorKind = "sign_in" if "AADSTS" in reason else "unreachable"
        raise VaultError(
            kind,
            redacted(
                f"sign-in failed for service principal {credentials.client_id} in tenant "
                f"{credentials.tenant_id}: {reason}",
                credentials,
            ),
        ) from None
    return credential


@contextmanager
def _translated(
    material: KeyMaterial,
    credentials: AzureCredentials,
    operation: str,
    version: str | None = None,
) -> Iterator[None]:
    """Azure SDK errors from one vault call, as ``VaultError``s naming the cause."""
    what = material.label + (f" version '{version}'" if version else "")
    vault = material.vault_url

    def fail(kind: VaultErrorKind, detail: str) -> NoReturn:
        raise VaultError(kind, redacted(detail, credentials)) from None

    try:
        yield
    except ResourceNotFoundError:
        fail("not_found", f"{what} not found in {vault}")
    except ClientAuthenticationError as exc:
        if exc.status_code is None:  # no token: e.g. the vault is in another Entra tenant
            fail("sign_in", f"cannot get a token for {vault}: {first_line(exc.message)}")
        fail(
            "access_denied",
            f"{vault} refused the token of service principal "
            f"{credentials.client_id} (HTTP {exc.status_code}{_codes(exc)}): {_message(exc)}",
        )
    except HttpResponseError as exc:
        status = exc.status_code or 0
        if status == 403 and "Disabled" in _codes(exc):
            fail("unusable", f"{what} is disabled in {vault}")
        if status == 403:
            fail(
                "access_denied",
                f"service principal {credentials.client_id} may not "
                f"{operation} {what} in {vault} (HTTP 403{_codes(exc)}): {_message(exc)}",
            )
        if status == 429 or status >= 500:
            fail("unreachable", f"{vault} answered HTTP {status}{_codes(exc)}: {_message(exc)}")
        fail(
            "unusable",
            f"{operation} on {what} in {vault} answered HTTP "
            f"{status}{_codes(exc)}: {_message(exc)}",
        )
    except (ServiceRequestError, ServiceResponseError) as exc:
        fail("unreachable", f"cannot reach {vault}: {first_line(exc.message)}")
    except AzureError as exc:
        fail("unreachable", f"the request to {vault} failed: {first_line(exc.message)}")


def _secret_kek(material: KeyMaterial, value: str | None) -> bytes:
    """The key-encryption key derived from a secret's value, or ``unusable``."""
    try:
        raw = base64.b64decode((value or "").strip(), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) < KEY_BYTES:
        raise VaultError(
            "unusable",
            f"{material.label} in {material.vault_url} is not usable as a key: its value must be "
            f"base64 of at least {KEY_BYTES} random bytes (openssl rand -base64 {KEY_BYTES})",
        )
    return derive_key(raw, _KEK_PURPOSE)


def _check_key(material: KeyMaterial, key: KeyVaultKey) -> None:
    """``unusable`` unless the key is an enabled, valid RSA key that may wrap and unwrap."""
    where = f"{material.label} in {material.vault_url}"
    key_type, operations, properties = key.key_type, key.key_operations, key.properties
    if properties.enabled is False:
        raise VaultError("unusable", f"{where} is disabled")
    if key_type not in _RSA_TYPES:
        kty = getattr(key_type, "value", key_type)
        raise VaultError(
            "unusable",
            f"{where} is of type {kty}; data keys are wrapped with RSA-OAEP-256, "
            "so it must be an RSA or RSA-HSM key",
        )
    missing = [op for op in ("wrapKey", "unwrapKey") if op not in (operations or [])]
    if missing:
        raise VaultError("unusable", f"{where} does not permit {' and '.join(missing)}")
    now = dt.datetime.now(dt.UTC)
    if properties.expires_on is not None and properties.expires_on <= now:
        raise VaultError("unusable", f"{where} expired on {properties.expires_on:%Y-%m-%d}")
    if properties.not_before is not None and properties.not_before > now:
        raise VaultError(
            "unusable", f"{where} is not valid before {properties.not_before:%Y-%m-%d}"
        )


def _error(exc: HttpResponseError) -> dict[str, Any]:
    """The ``error`` object of a Key Vault error body, or nothing."""
    response: Any = exc.response
    try:
        error = response.json().get("error")
    except (AttributeError, ValueError, TypeError):
        return {}
    return error if isinstance(error, dict) else {}


def _codes(exc: HttpResponseError) -> str:
    """`` <code>/<inner code>`` from a Key Vault error body, or nothing."""
    error = _error(exc)
    inner = error.get("innererror")
    codes = [error.get("code"), inner.get("code") if isinstance(inner, dict) else None]
    text = "/".join(c for c in codes if isinstance(c, str))
    return f" {text}" if text else ""


def _message(exc: HttpResponseError) -> str:
    message = _error(exc).get("message")
    return first_line(message if isinstance(message, str) else exc.message)

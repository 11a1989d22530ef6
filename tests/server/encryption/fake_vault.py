"""A stateful Azure Key Vault and Entra sign-in endpoint at the azure-core transport layer.

The real azure-identity and azure-keyvault-* clients talk to it exactly as to Azure: msal's
discovery and ``client_credentials`` token requests, the vault's 401 challenge, then
``GET /secrets/{name}[/{version}]``, ``GET /keys/{name}[/{version}]`` and
``POST /keys/{name}/{version}/wrapkey|unwrapkey`` (RSA-OAEP-256 with real RSA keys held here).
Error bodies follow Key Vault's (``SecretNotFound``, ``Forbidden`` with ``SecretDisabled`` or
``KeyDisabled``, ``BadParameter`` for a ciphertext the key cannot decrypt).

Knobs a test turns::

    vault = FakeVault()                      # one vault, one service principal (the defaults)
    version = vault.add_secret("tenant-key") # base64 of 32 random bytes; returns the version
    vault.rotate_secret("tenant-key")        # a new current version; older ones stay readable
    vault.add_secret("short", "c2hvcnQ=")    # any value, e.g. one too short to be a key
    vault.delete_secret("tenant-key")        # 404 SecretNotFound from now on
    vault.disable_secret("tenant-key")       # 403 SecretDisabled
    vault.add_key("tenant-kek")              # an RSA key allowing wrapKey/unwrapKey
    vault.add_key("signer", key_ops=["sign", "verify"]); vault.add_key("ec", kty="EC")
    vault.rotate_key("tenant-kek"); vault.disable_key("tenant-kek"); vault.delete_key(...)
    vault.deny()                             # 403 on every vault call (or deny("unwrapKey"))
    vault.unreachable = True                 # the vault host refuses connections
    vault.refuse_sign_in = True              # Entra answers AADSTS7000215 (bad client secret)
    vault.restore()                          # access back: no denial, reachable, sign-in works

It records every request (``requests``) and every retry sleep (``sleeps``), and never sleeps.
Pass it wherever the code under test takes a ``Transport`` (``Runtime.azure_transport``).
A process that cannot be handed one (a ``tutela worker``) reaches it over HTTPS through
``vault_server.VaultProxy``.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

from azure.core.exceptions import ServiceRequestError
from azure.core.pipeline.transport import HttpTransport
from azure.core.rest import HttpRequest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.scanner.sources.replay import _RecordedResponse

TENANT_ID: Final = "9b1f3c2d-4e5a-4f60-8a7b-6c5d4e3f2a10"
CLIENT_ID: Final = "5e7d9c1b-2a3f-4e6d-8b9c-0f1e2d3c4b5a"
CLIENT_SECRET: Final = "Qx8~kTn3.Vb_q2RzW7yHc-9LmPdF4sJe"
VAULT_URL: Final = "https://kv-contoso.vault.azure.net/"

# Each cloud's sign-in host for a vault DNS suffix (the fake answers all of them).
_LOGIN_HOSTS: Final = {
    "vault.azure.net": "login.microsoftonline.com",
    "vault.azure.cn": "login.chinacloudapi.cn",
    "vault.usgovcloudapi.net": "login.microsoftonline.us",
}
_OAEP_256: Final = padding.OAEP(
    mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None
)


def new_secret_value(size: int = 32) -> str:
    """A secret value in the documented format: base64 of random bytes."""
    return base64.b64encode(secrets.token_bytes(size)).decode("ascii")


@dataclass
class _Version:
    version: str
    enabled: bool = True
    value: str | None = None  # a secret's value
    private_key: rsa.RSAPrivateKey | None = None  # an RSA key's material
    kty: str = "RSA"
    key_ops: list[str] = field(default_factory=list)


@dataclass
class FakeVault(HttpTransport[HttpRequest, _RecordedResponse]):
    """One Key Vault (``vault_url``) and the Entra tenant its service principal signs in to."""

    vault_url: str = VAULT_URL
    tenant_id: str = TENANT_ID
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    unreachable: bool = False
    refuse_sign_in: bool = False
    denied: set[str] = field(default_factory=set)  # operations answered 403; "*" is all
    secrets: dict[str, list[_Version]] = field(default_factory=dict)
    keys: dict[str, list[_Version]] = field(default_factory=dict)
    requests: list[HttpRequest] = field(default_factory=list)
    sleeps: list[float] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)  # access tokens issued for the vault
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def host(self) -> str:
        return urlsplit(self.vault_url).netloc

    @property
    def name(self) -> str:
        return self.host.split(".", 1)[0]

    @property
    def resource(self) -> str:
        return "https://" + self.host.split(".", 1)[1]

    # -- knobs ----------------------------------------------------------------------------------

    def add_secret(self, name: str, value: str | None = None) -> str:
        """Create the secret or add a version: it becomes the current one. Returns its version."""
        version = _Version(uuid.uuid4().hex, value=new_secret_value() if value is None else value)
        self.secrets.setdefault(name, []).append(version)
        return version.version

    def rotate_secret(self, name: str, value: str | None = None) -> str:
        assert name in self.secrets, f"no secret {name!r} to rotate"
        return self.add_secret(name, value)

    def secret_value(self, name: str, version: str | None = None) -> str:
        found = self._find(self.secrets, name, version)
        assert found is not None
        assert found.value is not None
        return found.value

    def delete_secret(self, name: str) -> None:
        del self.secrets[name]

    def disable_secret(self, name: str, version: str | None = None) -> None:
        found = self._find(self.secrets, name, version)
        assert found is not None
        found.enabled = False

    def add_key(
        self, name: str, *, kty: str = "RSA", key_ops: list[str] | None = None, size: int = 2048
    ) -> str:
        """Create the key or add a version: it becomes the current one. Returns its version."""
        ops = ["wrapKey", "unwrapKey", "encrypt", "decrypt"] if key_ops is None else key_ops
        private = rsa.generate_private_key(65537, size) if kty.startswith("RSA") else None
        version = _Version(uuid.uuid4().hex, private_key=private, kty=kty, key_ops=list(ops))
        self.keys.setdefault(name, []).append(version)
        return version.version

    def rotate_key(self, name: str) -> str:
        current = self.keys[name][-1]
        return self.add_key(name, kty=current.kty, key_ops=current.key_ops)

    def delete_key(self, name: str) -> None:
        del self.keys[name]

    def disable_key(self, name: str, version: str | None = None) -> None:
        found = self._find(self.keys, name, version)
        assert found is not None
        found.enabled = False

    def deny(self, *operations: str) -> None:
        """403 on these operations (``get``, ``wrapKey``, ``unwrapKey``), or on every call."""
        self.denied |= set(operations) or {"*"}

    def restore(self) -> None:
        self.denied.clear()
        self.unreachable = False
        self.refuse_sign_in = False

    def reachable(self, host: str) -> bool:
        """Whether a connection to ``host`` opens: a sign-in host, or the vault unless
        ``unreachable`` (for ``vault_server``, which answers the others before TLS)."""
        return host in _LOGIN_HOSTS.values() or (host == self.host and not self.unreachable)

    def sent(self, path_contains: str = "") -> list[HttpRequest]:
        """Requests sent to the vault whose path contains a fragment."""
        return [
            r
            for r in self.requests
            if urlsplit(r.url).netloc == self.host and path_contains in urlsplit(r.url).path
        ]

    # -- the transport ------------------------------------------------------------------------

    def send(self, request: HttpRequest, **kwargs: Any) -> _RecordedResponse:
        with self._lock:
            self.requests.append(request)
            url = urlsplit(request.url)
            if url.netloc in _LOGIN_HOSTS.values():
                answer = self._identity(request, url.netloc, url.path)
            elif url.netloc == self.host:
                if self.unreachable:
                    raise ServiceRequestError(
                        f"Failed to establish a new connection: [Errno 111] Connection refused "
                        f"({url.netloc})"
                    )
                answer = self._vault(request, url.path)
            else:  # a host that does not exist, as DNS would say
                raise ServiceRequestError(f"Name or service not known ({url.netloc})")
        return _RecordedResponse(request, answer)

    def sleep(self, duration: float) -> None:
        with self._lock:
            self.sleeps.append(duration)

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> FakeVault:
        return self

    def __exit__(self, *args: object) -> None:
        pass

    # -- Entra ID ---------------------------------------------------------------------------

    def _identity(self, request: HttpRequest, host: str, path: str) -> dict[str, Any]:
        authority = f"https://{host}/{self.tenant_id}"
        if path.endswith("/.well-known/openid-configuration"):
            return _json(
                200,
                {
                    "token_endpoint": f"{authority}/oauth2/v2.0/token",
                    "authorization_endpoint": f"{authority}/oauth2/v2.0/authorize",
                    "issuer": f"{authority}/v2.0",
                    "token_endpoint_auth_methods_supported": ["client_secret_post"],
                },
            )
        if path.endswith("/discovery/instance"):
            return _json(
                200,
                {
                    "tenant_discovery_endpoint": f"https://{host}/common/v2.0/.well-known/"
                    "openid-configuration",
                    "metadata": [{"preferred_network": host, "aliases": [host]}],
                },
            )
        if request.method == "POST" and path == f"/{self.tenant_id}/oauth2/v2.0/token":
            form = _form(request)
            if self.refuse_sign_in or form.get("client_secret") != self.client_secret:
                return _json(
                    401,
                    {
                        "error": "invalid_client",
                        "error_description": "AADSTS7000215: Invalid client secret provided. "
                        "Ensure the secret being sent in the request is the client secret "
                        f"value, not the client secret ID, for a secret added to app "
                        f"'{form.get('client_id')}'. Trace ID: 7a8b9c0d",
                        "error_codes": [7000215],
                    },
                )
            if form.get("client_id") != self.client_id:
                return _json(
                    400,
                    {
                        "error": "unauthorized_client",
                        "error_description": f"AADSTS700016: Application with identifier "
                        f"'{form.get('client_id')}' was not found in the directory.",
                        "error_codes": [700016],
                    },
                )
            token = f"fake-token-{secrets.token_hex(16)}"
            if form.get("scope") == f"{self.resource}/.default":
                self.tokens.add(token)
            return _json(200, {"token_type": "Bearer", "expires_in": 3599, "access_token": token})
        return _json(404, {"error": "not_found", "error_description": f"no {path} here"})

    # -- Key Vault ----------------------------------------------------------------------------

    def _vault(self, request: HttpRequest, path: str) -> dict[str, Any]:
        bearer = request.headers.get("Authorization", "")
        if bearer.removeprefix("Bearer ") not in self.tokens:
            return {
                "status": 401,
                "headers": {
                    "WWW-Authenticate": f'Bearer authorization="https://'
                    f'{_LOGIN_HOSTS[self.resource.removeprefix("https://")]}/{self.tenant_id}", '
                    f'resource="{self.resource}"'
                },
                "body": {
                    "error": {
                        "code": "Unauthorized",
                        "message": "AKV10000: Request is missing a Bearer or PoP token.",
                    }
                },
            }
        parts = [p for p in path.split("/") if p]
        collection, name = parts[0], parts[1] if len(parts) > 1 else ""
        version = parts[2] if len(parts) > 2 else None
        action = parts[3] if len(parts) > 3 else None
        operation = {"wrapkey": "wrapKey", "unwrapkey": "unwrapKey"}.get(action or "", "get")
        if "*" in self.denied or operation in self.denied:
            return self._forbidden(collection, operation)
        if collection == "secrets" and request.method == "GET":
            return self._get_secret(name, version)
        if collection == "keys" and request.method == "GET":
            return self._get_key(name, version)
        if collection == "keys" and request.method == "POST" and action in ("wrapkey", "unwrapkey"):
            return self._wrap(name, version, action, json.loads(_body(request)))
        return _error(400, "BadParameter", f"the fake vault does not serve {request.method} {path}")

    def _forbidden(self, collection: str, operation: str) -> dict[str, Any]:
        return _error(
            403,
            "Forbidden",
            f"The user, group or application 'appid={self.client_id};oid=3c2d1e0f;"
            f"iss=https://sts.windows.net/{self.tenant_id}/' does not have {collection} "
            f"{operation} permission on key vault '{self.name};location=westeurope'. For help "
            "resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287",
            inner="AccessDenied",
        )

    def _get_secret(self, name: str, version: str | None) -> dict[str, Any]:
        found = self._find(self.secrets, name, version)
        if found is None:
            return _not_found("secret", name)
        if not found.enabled:
            return _error(
                403,
                "Forbidden",
                "Operation get is not allowed on a disabled secret.",
                inner="SecretDisabled",
            )
        return _json(
            200,
            {
                "value": found.value,
                "id": f"{self.vault_url}secrets/{name}/{found.version}",
                "attributes": _attributes(found),
            },
        )

    def _get_key(self, name: str, version: str | None) -> dict[str, Any]:
        found = self._find(self.keys, name, version)
        if found is None:
            return _not_found("key", name)
        if not found.enabled:
            return _error(
                403,
                "Forbidden",
                "Operation get is not allowed on a disabled key.",
                inner="KeyDisabled",
            )
        jwk: dict[str, Any] = {
            "kid": f"{self.vault_url}keys/{name}/{found.version}",
            "kty": found.kty,
            "key_ops": found.key_ops,
        }
        if found.private_key is not None:
            numbers = found.private_key.public_key().public_numbers()
            jwk |= {"n": _b64url(_int_bytes(numbers.n)), "e": _b64url(_int_bytes(numbers.e))}
        else:  # an EC key: only its shape matters to the tests
            jwk |= {"crv": "P-256", "x": _b64url(b"\x01" * 32), "y": _b64url(b"\x02" * 32)}
        return _json(200, {"key": jwk, "attributes": _attributes(found)})

    def _wrap(
        self, name: str, version: str | None, action: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        found = self._find(self.keys, name, version)
        if found is None:
            return _not_found("key", name)
        operation = "wrapKey" if action == "wrapkey" else "unwrapKey"
        if not found.enabled:
            return _error(
                403,
                "Forbidden",
                f"Operation {operation} is not allowed on a disabled key.",
                inner="KeyDisabled",
            )
        if operation not in found.key_ops or found.private_key is None:
            return _error(
                403,
                "Forbidden",
                f"Operation {operation} is not permitted on this key.",
                inner="KeyOperationForbidden",
            )
        if body.get("alg") != "RSA-OAEP-256":
            return _error(400, "BadParameter", f"Algorithm {body.get('alg')} is not supported.")
        value = _unb64url(body["value"])
        kid = f"{self.vault_url}keys/{name}/{found.version}"
        if operation == "wrapKey":
            result = found.private_key.public_key().encrypt(value, _OAEP_256)
        else:
            try:
                result = found.private_key.decrypt(value, _OAEP_256)
            except ValueError:
                return _error(
                    400, "BadParameter", "Unable to decrypt specified value with this key."
                )
        return _json(200, {"kid": kid, "value": _b64url(result)})

    @staticmethod
    def _find(items: dict[str, list[_Version]], name: str, version: str | None) -> _Version | None:
        versions = items.get(name, [])
        if not version:
            return versions[-1] if versions else None
        return next((v for v in versions if v.version == version), None)


def _attributes(version: _Version) -> dict[str, Any]:
    return {
        "enabled": version.enabled,
        "created": 1767225600,
        "updated": 1767225600,
        "recoveryLevel": "Recoverable+Purgeable",
    }


def _not_found(kind: str, name: str) -> dict[str, Any]:
    return _error(
        404,
        f"{kind.capitalize()}NotFound",
        f"A {kind} with (name/id) {name} was not found in this key vault. If you recently "
        f"deleted this {kind} you may be able to recover it using the correct recovery command. "
        "For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182",
    )


def _error(status: int, code: str, message: str, inner: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if inner is not None:
        error["innererror"] = {"code": inner}
    return _json(status, {"error": error})


def _json(status: int, body: Any) -> dict[str, Any]:
    return {"status": status, "headers": {"Content-Type": "application/json"}, "body": body}


def _body(request: HttpRequest) -> str:
    # Older Key Vault clients send azure-core's legacy request, whose bytes are ``body``.
    content = request.content if hasattr(request, "content") else getattr(request, "body", None)
    if isinstance(content, bytes):
        return content.decode()
    return content if isinstance(content, str) else json.dumps(content)


def _form(request: HttpRequest) -> dict[str, str]:
    content = request.content
    if isinstance(content, dict):  # azure-identity hands the token request's form as a dict
        return {str(k): str(v) for k, v in content.items()}
    return {k: v[-1] for k, v in parse_qs(_body(request)).items()}


def _int_bytes(number: int) -> bytes:
    return number.to_bytes((number.bit_length() + 7) // 8, "big")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

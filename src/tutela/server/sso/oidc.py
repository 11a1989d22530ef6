"""OpenID Connect, the client's side, through authlib: the provider's discovery document, the
authorization URL (state, nonce, PKCE S256), the code exchange and the ID token's validation
(signature against the provider's JWKS, then iss, aud, exp, iat and nonce).

The HTTP calls go through httpx with a timeout and without following redirects. A tenant's
admin chooses the issuer, so these are requests the server makes on their word: by default a
provider must be on the public internet (every address its host resolves to is global), over
HTTPS. ``TUTELA_SSO_ALLOW_INTERNAL_PROVIDERS`` lets an installation use a provider on its own
network (a Keycloak beside it), and then also plain ``http://`` to the loopback addresses in
``LOOPBACK_HOSTS`` (the tests run their provider there; nothing leaves the machine). Errors
carry our own words, never the provider's response text: they end up in audit entries and in
answers to the person signing in.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

import httpx
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

if TYPE_CHECKING:
    from joserfc.jwk import KeySetSerialization

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
SCOPE = "openid email profile"
TIMEOUT = httpx.Timeout(10.0)
LEEWAY_SECONDS = 120  # clock skew tolerated on exp and iat
# Asymmetric algorithms only: "none", or HMAC keyed with the client secret, proves nothing here.
SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384")
# Client authentication at the token endpoint; discovery's default is client_secret_basic.
AUTH_METHODS = ("client_secret_basic", "client_secret_post")
ERROR_CODE = re.compile(r"[a-z_]{1,64}")
_PRINTABLE_URL = re.compile(r"https?://[\x21-\x7e]{1,2000}")


class ProviderError(Exception):
    """The provider cannot be used, or refused: the message is ours and safe to show."""


class IssuerMismatch(ProviderError):
    def __init__(self, announced: object) -> None:
        printable = isinstance(announced, str) and _PRINTABLE_URL.fullmatch(announced)
        shown = f" ({announced})" if printable else ""
        super().__init__(
            f"names another issuer{shown}: the issuer must be given exactly as the provider "
            "announces it"
        )


def allowed_url(url: str, internal: bool) -> bool:
    """HTTPS; or, where internal providers are allowed, plain HTTP to a loopback address."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return bool(parts.hostname)
    return internal and parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS


def _check_public(url: str, internal: bool) -> None:
    """Refuse a host that resolves to a private, loopback, link-local or reserved address,
    unless internal providers are allowed: the server would otherwise fetch from its own
    network for whoever configures a tenant's SSO."""
    if internal:
        return
    parts = urlsplit(url)
    try:
        infos = socket.getaddrinfo(parts.hostname or "", parts.port or 443, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise ProviderError("could not be reached: its host name does not resolve") from None
    for info in infos:
        if not ipaddress.ip_address(info[4][0]).is_global:
            raise ProviderError(
                "is on a private or local network address; an operator allows that with "
                "TUTELA_SSO_ALLOW_INTERNAL_PROVIDERS=true"
            )


def discovery_url(issuer: str) -> str:
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


@dataclass(frozen=True)
class Provider:
    """What discovery says about a provider, as far as this client uses it."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    auth_method: str
    algorithms: tuple[str, ...]
    internal: bool = False  # whether it may be on a private network (the installation's choice)


@dataclass(frozen=True)
class Client:
    """This platform as the provider knows it: the app registration."""

    client_id: str
    client_secret: str
    redirect_uri: str

    def __repr__(self) -> str:  # never print the secret, even by accident
        return f"Client(client_id={self.client_id!r}, redirect_uri={self.redirect_uri!r})"


def discover(issuer: str, *, internal: bool = False) -> Provider:
    """The provider's discovery document, checked: it must name ``issuer`` exactly."""
    if not allowed_url(issuer, internal):
        raise ProviderError(
            "must be an https:// URL"
            + (" (http:// only to 127.0.0.1 or localhost)" if internal else "")
        )
    document = _get_json(
        discovery_url(issuer), "its /.well-known/openid-configuration", internal=internal
    )
    if document.get("issuer") != issuer:
        raise IssuerMismatch(document.get("issuer"))
    endpoints = {}
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        value = document.get(name)
        if not isinstance(value, str) or not allowed_url(value, internal):
            raise ProviderError(f"announces no usable {name} (an https:// URL)")
        endpoints[name] = value
    supported = document.get("token_endpoint_auth_methods_supported", ["client_secret_basic"])
    methods = [m for m in AUTH_METHODS if isinstance(supported, list) and m in supported]
    if not methods:
        raise ProviderError("accepts neither client_secret_basic nor client_secret_post")
    announced = document.get("id_token_signing_alg_values_supported", ["RS256"])
    algorithms = tuple(
        a for a in SIGNING_ALGORITHMS if isinstance(announced, list) and a in announced
    )
    if not algorithms:
        raise ProviderError("signs ID tokens with no algorithm this platform accepts (RS256…)")
    return Provider(
        issuer, auth_method=methods[0], algorithms=algorithms, internal=internal, **endpoints
    )


def authorization_url(
    provider: Provider,
    client: Client,
    *,
    state: str,
    nonce: str,
    code_verifier: str,
    login_hint: str,
) -> str:
    """Where to send the browser: the authorization code flow with PKCE (S256)."""
    return str(
        prepare_grant_uri(
            provider.authorization_endpoint,
            client.client_id,
            "code",
            redirect_uri=client.redirect_uri,
            scope=SCOPE,
            state=state,
            nonce=nonce,
            code_challenge=create_s256_code_challenge(code_verifier),
            code_challenge_method="S256",
            login_hint=login_hint,
        )
    )


def redeem(
    provider: Provider, client: Client, *, code: str, code_verifier: str, nonce: str
) -> dict[str, Any]:
    """Exchange the code for tokens and return the validated ID token's claims."""
    body = prepare_token_request(
        "authorization_code",
        code=code,
        redirect_uri=client.redirect_uri,
        code_verifier=code_verifier,
    )
    auth = ClientAuth(client.client_id, client.client_secret, provider.auth_method)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    url, headers, body = auth.prepare("POST", provider.token_endpoint, headers, body)
    _check_public(url, provider.internal)
    try:
        response = httpx.post(
            url, headers=headers, content=body, timeout=TIMEOUT, follow_redirects=False
        )
    except httpx.HTTPError as exc:
        raise ProviderError(f"token endpoint unreachable ({type(exc).__name__})") from None
    if response.status_code != 200:
        raise ProviderError(
            f"token endpoint answered HTTP {response.status_code}{_error_code(response)}"
        )
    tokens = _json_object(response) or {}
    id_token = tokens.get("id_token")
    if not isinstance(id_token, str):
        raise ProviderError("token endpoint returned no ID token")
    return _validated(provider, client, id_token, nonce, tokens)


def _validated(
    provider: Provider, client: Client, id_token: str, nonce: str, tokens: dict[str, Any]
) -> dict[str, Any]:
    jwks = cast("KeySetSerialization", _get_json(provider.jwks_uri, "its JWKS", provider.internal))
    try:
        decoded = jwt.decode(id_token, KeySet.import_key_set(jwks), algorithms=provider.algorithms)
        claims = CodeIDToken(
            decoded.claims,
            decoded.header,
            {
                "iss": {"essential": True, "value": provider.issuer},
                "aud": {"essential": True, "value": client.client_id},
            },
            {
                "nonce": nonce,
                "client_id": client.client_id,
                "access_token": tokens.get("access_token"),
            },
        )
        claims.validate(leeway=LEEWAY_SECONDS)
    except (JoseError, ValueError) as exc:
        raise ProviderError(f"ID token refused ({_jose_reason(exc)})") from None
    return dict(claims)


def _jose_reason(exc: Exception) -> str:
    """joserfc's error code and the claim it names (its own words: no token content)."""
    if isinstance(exc, JoseError):
        return f"{exc.error}: {exc.description}" if exc.description else str(exc.error)
    return "malformed"


def _get_json(url: str, what: str, internal: bool) -> dict[str, Any]:
    _check_public(url, internal)
    try:
        response = httpx.get(
            url, headers={"Accept": "application/json"}, timeout=TIMEOUT, follow_redirects=False
        )
    except httpx.HTTPError as exc:
        raise ProviderError(f"could not be reached: {what} ({type(exc).__name__})") from None
    if response.status_code != 200:
        raise ProviderError(f"answered HTTP {response.status_code} for {what}")
    document = _json_object(response)
    if document is None:
        raise ProviderError(f"answered with no JSON object for {what}")
    return document


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        document = response.json()
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def _error_code(response: httpx.Response) -> str:
    """The OAuth ``error`` code of a refusal (``invalid_grant``…), when it is one."""
    document = _json_object(response)
    code = document.get("error") if document is not None else None
    return f" ({code})" if isinstance(code, str) and ERROR_CODE.fullmatch(code) else ""

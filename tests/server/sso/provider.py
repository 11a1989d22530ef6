"""A local OpenID provider for the tests: pyop (a maintained OpenID provider library) behind a
real HTTP server on 127.0.0.1, in a thread, with RS256 keys made when it starts.

It serves discovery, the JWKS, the authorization endpoint and the token endpoint. The
authorization endpoint signs in the configured person at once and redirects back with a code,
so no browser is needed. ``misbehave`` makes the token endpoint hand out a doctored ID token
(another audience, a bad signature, another nonce), re-signed with the provider's own key
unless the signature is the point.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from Cryptodome.PublicKey import RSA
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwt
from joserfc.jwk import RSAKey as JoseRSAKey
from jwkest.jwk import RSAKey as PyopRSAKey
from pyop.authz_state import AuthorizationState
from pyop.exceptions import InvalidAuthenticationRequest, InvalidClientAuthentication, OAuthError
from pyop.provider import Provider
from pyop.subject_identifier import HashBasedSubjectIdentifierFactory
from pyop.userinfo import Userinfo

CLIENT_ID = "tutela-tests"
CLIENT_SECRET = "s3cret-of-the-app-registration-0123456789"
KID = "test-key-1"
MISBEHAVIOURS = ("audience", "signature", "nonce")


def _rsa_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


class LocalProvider:
    """The provider; ``issuer`` is its URL once started (``with LocalProvider(...) as op:``)."""

    def __init__(
        self,
        redirect_uri: str,
        *,
        auth_method: str = "client_secret_post",
        claims: dict[str, Any] | None = None,
    ) -> None:
        self.redirect_uri = redirect_uri
        self.auth_method = auth_method
        self.claims = claims or {}  # the signed-in person's claims in the ID token
        self.misbehave: str | None = None
        self.token_requests: list[dict[str, Any]] = []  # what the token endpoint was sent
        self.issued: list[str] = []  # every code, access token and ID token handed out
        pem = _rsa_pem()
        self._key = JoseRSAKey.import_key(pem, {"kid": KID})
        self._other_key = JoseRSAKey.import_key(_rsa_pem(), {"kid": KID})
        self._signing_key = PyopRSAKey(key=RSA.import_key(pem), alg="RS256", kid=KID)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.issuer = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._provider = self._make_provider()

    def _make_provider(self) -> Provider:
        configuration = {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": [self.auth_method],
            "code_challenge_methods_supported": ["S256"],
        }
        clients = {
            CLIENT_ID: {
                "client_secret": CLIENT_SECRET,
                "redirect_uris": [self.redirect_uri],
                "response_types": ["code"],
                "token_endpoint_auth_method": self.auth_method,
            }
        }
        # oic's configuration check wants an https:// issuer: it is given one, then the plain
        # http:// one the provider really serves (loopback only, as the platform allows).
        secure = {
            k: v.replace("http://", "https://", 1)
            for k, v in configuration.items()
            if isinstance(v, str)
        }
        provider = Provider(
            self._signing_key,
            {**configuration, **secure},
            AuthorizationState(HashBasedSubjectIdentifierFactory("test salt")),
            clients,
            Userinfo({"person": {}}),
        )
        provider.configuration_information.update(configuration)
        return provider

    def __enter__(self) -> LocalProvider:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @contextmanager
    def misbehaving(self, how: str) -> Iterator[None]:
        assert how in MISBEHAVIOURS
        self.misbehave = how
        try:
            yield
        finally:
            self.misbehave = None

    def authorize(self, query: str) -> tuple[int, dict[str, str]]:
        """Sign the person in at once: a redirect back with the code (or the error)."""
        try:
            request = self._provider.parse_authentication_request(query)
        except InvalidAuthenticationRequest as exc:
            return 302, {"Location": exc.to_error_url() or self.redirect_uri}
        response = self._provider.authorize(request, "person")
        self.issued.append(response["code"])
        return 302, {"Location": response.request(request["redirect_uri"], False)}

    def token(self, body: str, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        self.token_requests.append({"body": body, "authorization": headers.get("Authorization")})
        try:
            answer = self._provider.handle_token_request(
                body, headers, extra_id_token_claims=self.claims
            ).to_dict()
        except (InvalidClientAuthentication, OAuthError) as exc:
            return 400, {"error": exc.oauth_error}
        answer["id_token"] = self._doctored(answer["id_token"])
        self.issued += [answer["access_token"], answer["id_token"]]
        return 200, answer

    def _doctored(self, id_token: str) -> str:
        if self.misbehave is None:
            return id_token
        claims = dict(jwt.decode(id_token, self._key).claims)
        key = self._key
        if self.misbehave == "audience":
            claims["aud"] = "another-app"
        elif self.misbehave == "nonce":
            claims["nonce"] = "not-the-nonce-sent"
        else:
            key = self._other_key  # the same kid, another key: the signature does not verify
        return jwt.encode({"alg": "RS256", "kid": KID}, claims, key)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                if url.path == "/.well-known/openid-configuration":
                    self._json(200, provider._provider.provider_configuration.to_dict())
                elif url.path == "/jwks":
                    self._json(200, provider._provider.jwks)
                elif url.path == "/authorize":
                    status, headers = provider.authorize(url.query)
                    self._send(status, headers, b"")
                else:
                    self._json(404, {"error": "not_found"})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                if urlsplit(self.path).path != "/token":
                    self._json(404, {"error": "not_found"})
                    return
                self._json(*provider.token(body, dict(self.headers.items())))

            def _json(self, status: int, document: dict[str, Any]) -> None:
                self._send(
                    status, {"Content-Type": "application/json"}, json.dumps(document).encode()
                )

            def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                """The provider's requests are not the platform's log."""

        return Handler

"""Signing in to Azure as a service principal, and one line naming why a live scan failed.

The error never holds the client secret, whatever an Azure error message quoted; a refusal by the
identity platform is told apart from a network failure, so only the former blames the
credentials.
"""

from __future__ import annotations

import re
from typing import Final, Protocol
from urllib.parse import urlsplit

from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.identity import ClientSecretCredential

from tutela.redaction import redact
from tutela.scanner.sources import SourceError
from tutela.scanner.sources.azure_arm import ARM_SCOPE, Transport, error_code

SOURCE: Final = "azure"


class ServicePrincipal(Protocol):
    """The Entra application a live scan signs in as."""

    @property
    def tenant_id(self) -> str: ...
    @property
    def client_id(self) -> str: ...
    @property
    def client_secret(self) -> str: ...


class AzureSourceError(SourceError):
    """A live scan that cannot go on; the message names the cause and never holds the secret.

    ``throttled`` says Azure kept answering 429: worth retrying later, unlike other causes.
    ``credentials_rejected`` says the identity platform refused the service principal (bad
    tenant id, client id or secret): trying again cannot help until the credentials change.
    """

    def __init__(
        self, problem: str, *, throttled: bool = False, credentials_rejected: bool = False
    ) -> None:
        super().__init__(SOURCE, problem)
        self.throttled = throttled
        self.credentials_rejected = credentials_rejected


def sign_in(principal: ServicePrincipal, transport: Transport) -> ClientSecretCredential:
    """A credential that has already got an ARM token: bad credentials fail here, and clearly."""
    try:
        credential = ClientSecretCredential(
            principal.tenant_id, principal.client_id, principal.client_secret, transport=transport
        )
    except ValueError as exc:  # an empty or malformed tenant or client id
        raise AzureSourceError(
            redacted(f"cannot sign in: {exc}", principal), credentials_rejected=True
        ) from None
    try:
        credential.get_token(ARM_SCOPE)
    except ClientAuthenticationError as exc:
        # azure-identity raises this both for the identity platform's refusal (an AADSTS
        # answer) and for a sign-in request that never got an answer (network): only the
        # former is the credentials' fault.
        reason = identity_reason(exc)
        code = _AADSTS_CODE.search(reason)
        raise AzureSourceError(
            redacted(
                f"sign-in failed for service principal {principal.client_id} in tenant "
                f"{principal.tenant_id}: {reason}",
                principal,
            ),
            throttled=code is not None and code.group(1) in _AADSTS_THROTTLED,
            credentials_rejected=code is not None
            and code.group(1) not in _AADSTS_THROTTLED | _AADSTS_TRANSIENT,
        ) from None
    return credential


def explain(exc: AzureError, principal: ServicePrincipal) -> str:
    """One line naming why the scan stopped."""
    if isinstance(exc, ClientAuthenticationError):
        return (
            f"Azure rejected the access token of service principal {principal.client_id}"
            f" (HTTP {exc.status_code}{error_code(exc.response)}{_where(exc)})"
        )
    if isinstance(exc, HttpResponseError):
        status = exc.status_code
        code = error_code(exc.response)
        if status == 429:
            return (
                f"Azure kept throttling requests after every retry (HTTP 429{code}{_where(exc)}); "
                "scan again later or fewer subscriptions at once"
            )
        if status == 403:
            return (
                f"service principal {principal.client_id} is not authorised (HTTP 403{code}"
                f"{_where(exc)}); grant it Reader on the subscriptions"
            )
        return f"Azure answered HTTP {status}{code}{_where(exc)}: {first_line(exc.message)}"
    if isinstance(exc, ServiceRequestError | ServiceResponseError):
        return f"cannot reach Azure: {first_line(exc.message)}"
    return f"the Azure request failed: {first_line(exc.message)}"


_AADSTS_CODE = re.compile(r"\bAADSTS(\d+)\b")
# Identity platform answers that are not about the credentials: its own transient failure, and
# its throttling of the tenant. Every other AADSTS answer at sign-in refuses the credentials.
_AADSTS_TRANSIENT = frozenset({"90033"})
_AADSTS_THROTTLED = frozenset({"90055"})


def identity_reason(exc: ClientAuthenticationError) -> str:
    """The identity platform's reason (``AADSTS7000215: Invalid client secret provided.``)."""
    text = first_line(exc.message)
    match = re.search(r"(AADSTS\d+:.*?\.)(\s|$)", text)
    return match.group(1) if match else text


def _where(exc: HttpResponseError) -> str:
    request = getattr(exc.response, "request", None)
    url = getattr(request, "url", None)
    return f" at {urlsplit(url).path}" if isinstance(url, str) else ""


def first_line(text: object) -> str:
    lines = str(text).strip().splitlines()
    return " ".join(lines[0].split()) if lines else "no details"


def redacted(text: str, principal: ServicePrincipal) -> str:
    """One line that cannot hold the client secret, whatever an error message quoted."""
    return redact(" ".join(text.split()), [principal.client_secret], "[secret]")

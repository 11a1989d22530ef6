"""The server's narrators: a model when ``TUTELA_LLM_*`` configure one, the deterministic otherwise.

Scans get a fresh :class:`LLMNarrator` each (its cache and its "the endpoint failed" flag live
for one scan) over one shared ``openai`` client per endpoint. The board narrative of a scorecard
is one short request with the scorecard's numbers; any failure, a slow model included, gives the
deterministic text. Neither ever logs the key or a model's error message, only its type.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

from pydantic import SecretStr

from tutela.scanner.catalog import Catalog
from tutela.scanner.narrative.deterministic import DeterministicNarrator
from tutela.server.config import Settings

if TYPE_CHECKING:
    import openai

    from tutela.scanner.narrative import Narrator

log = logging.getLogger("tutela.narrative")

# The scope Azure OpenAI accepts Entra ID tokens for (managed identity, workload identity, …).
COGNITIVE_SERVICES_SCOPE = "https://cognitiveservices.azure.com/.default"
BOARD_MAX_CHARS = 2000  # a longer answer is not a few sentences for a board: not used

BOARD_PROMPT = (
    "You write the opening paragraph of a board pack on cloud AI compliance at a regulated firm. "
    "From the facts given (scores out of 100, RAG ratings, counts of open findings by severity, "
    "the trend, and the most serious gaps by catalogue check), write 3-5 plain sentences for "
    "non-technical directors: where the firm stands, what is most urgent, and the direction of "
    "travel. Use only the facts given; do not invent numbers, names, dates or remedies. Answer "
    'with JSON only: {"narrative": "<text>"}.'
)

GeneratedBy = Literal["llm", "deterministic"]


@dataclass(frozen=True)
class LLMEndpoint:
    """One configured model: Azure OpenAI (a deployment) or an OpenAI-compatible server."""

    kind: Literal["azure", "openai"]
    url: str
    model: str  # the deployment, for Azure
    api_version: str
    api_key: SecretStr | None  # None on Azure: managed identity
    timeout: float


def llm_endpoint(settings: Settings) -> LLMEndpoint | None:
    """The model the settings configure, or None (settings refuse incomplete combinations)."""
    if settings.llm_azure_endpoint and settings.llm_deployment:
        return LLMEndpoint(
            "azure",
            settings.llm_azure_endpoint,
            settings.llm_deployment,
            settings.llm_api_version,
            settings.llm_api_key,
            settings.llm_timeout_seconds,
        )
    if settings.llm_base_url and settings.llm_model:
        return LLMEndpoint(
            "openai",
            settings.llm_base_url,
            settings.llm_model,
            settings.llm_api_version,
            settings.llm_api_key,
            settings.llm_timeout_seconds,
        )
    return None


@lru_cache(maxsize=8)
def llm_client(endpoint: LLMEndpoint) -> openai.OpenAI:
    """One client (one connection pool) per endpoint for the process's life."""
    import openai

    from tutela.scanner.narrative.llm import make_client

    if endpoint.api_key is not None:
        return make_client(
            api_key=endpoint.api_key.get_secret_value(),
            base_url=endpoint.url if endpoint.kind == "openai" else None,
            azure_endpoint=endpoint.url if endpoint.kind == "azure" else None,
            api_version=endpoint.api_version,
            timeout=endpoint.timeout,
        )
    # Azure without a key: Entra ID tokens from the environment, managed identity or other.
    from azure.identity import DefaultAzureCredential, get_bearer_token_provider

    provider = get_bearer_token_provider(DefaultAzureCredential(), COGNITIVE_SERVICES_SCOPE)
    return openai.AzureOpenAI(
        azure_endpoint=endpoint.url,
        azure_ad_token_provider=provider,
        api_version=endpoint.api_version,
        timeout=endpoint.timeout,
        max_retries=1,
    )


def scan_narrator(settings: Settings, catalog: Catalog) -> Narrator:
    """The narrator of one scan: the model's with the deterministic as fallback, or the latter."""
    fallback = DeterministicNarrator(catalog)
    endpoint = llm_endpoint(settings)
    if endpoint is None:
        return fallback
    from tutela.scanner.narrative.llm import LLMNarrator

    return LLMNarrator(
        llm_client(endpoint), endpoint.model, fallback=fallback, timeout=endpoint.timeout
    )


def board_narrative(
    settings: Settings, facts: dict[str, Any], deterministic: str
) -> tuple[str, GeneratedBy]:
    """The model's board narrative from ``facts`` (numbers and catalogue words only), or the
    deterministic text when no model is configured or it fails in any way."""
    endpoint = llm_endpoint(settings)
    if endpoint is None:
        return deterministic, "deterministic"
    try:
        # One attempt: a board pack waits for a model once, never for its retries.
        client = llm_client(endpoint).with_options(max_retries=0)
        response = client.chat.completions.create(
            model=endpoint.model,
            messages=[
                {"role": "system", "content": BOARD_PROMPT},
                {"role": "user", "content": json.dumps({"facts": facts})},
            ],
            response_format={"type": "json_object"},
            temperature=0.2,
            timeout=endpoint.timeout,
        )
        text = _board_text(response.choices[0].message.content or "")
    except Exception as exc:  # any failure: the deterministic narrative, never an error
        log.warning("board_narrative_fallback reason=%s", type(exc).__name__)
        return deterministic, "deterministic"
    return text, "llm"


def _board_text(content: str) -> str:
    document = json.loads(content)
    text = document.get("narrative") if isinstance(document, dict) else None
    if not isinstance(text, str) or not text.strip():
        raise ValueError("no narrative in the answer")
    text = " ".join(text.split())  # one paragraph, no control characters or raw newlines
    if len(text) > BOARD_MAX_CHARS:
        raise ValueError("the narrative is too long")
    return text

"""The LLM narrator: batched chat completions through the ``openai`` library.

Works with Azure OpenAI (``AzureOpenAI``) or any OpenAI-compatible endpoint (``OpenAI`` with a
base URL). Findings with the same check, framework and evidence share one narrative, cached for
the narrator's life, so a thousand identical failures cost one request. Any failure (timeout,
HTTP error, malformed answer, a missing item) gives those findings the deterministic narrative:
a scan never fails because of narratives.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

from tutela.scanner.engine.assess import Assessment, Finding, MappedControl
from tutela.scanner.engine.evaluate import CheckResult
from tutela.scanner.narrative import narrative
from tutela.scanner.narrative.deterministic import DeterministicNarrator, describe_evidence

if TYPE_CHECKING:
    import openai

log = logging.getLogger("tutela.narrative")

SYSTEM_PROMPT = (
    "You explain cloud compliance findings to risk officers at regulated firms. For each item, "
    "write 2-3 plain-English sentences: what is misconfigured, why it matters for the named "
    "regulatory control, and the fix. Do not name the resource; do not invent facts beyond the "
    'item. Answer with JSON only: {"narratives": [{"id": <item id>, "narrative": "<text>"}]}.'
)


def make_client(
    *,
    api_key: str,
    base_url: str | None = None,
    azure_endpoint: str | None = None,
    api_version: str = "2024-10-21",
    timeout: float = 20.0,
) -> openai.OpenAI:
    """An OpenAI client for Azure OpenAI (``azure_endpoint``) or any compatible ``base_url``."""
    import openai

    if azure_endpoint:
        return openai.AzureOpenAI(
            azure_endpoint=azure_endpoint,
            api_key=api_key,
            api_version=api_version,
            timeout=timeout,
            max_retries=1,
        )
    return openai.OpenAI(base_url=base_url, api_key=api_key, timeout=timeout, max_retries=1)


def _key(result: CheckResult, control: MappedControl) -> Hashable:
    return (result.check.id, control.framework, control.control_id, repr(result.evidence))


class LLMNarrator:
    """Narratives from a model, one request per batch of distinct (check, control, evidence).

    The model's text is the whole narrative: ``opening`` is empty and ``closing`` carries it.
    """

    closing_per_control = False  # the model's text depends on the evidence too

    def __init__(
        self,
        client: openai.OpenAI,
        model: str,
        *,
        fallback: DeterministicNarrator | None = None,
        batch_size: int = 20,
        timeout: float = 20.0,
    ) -> None:
        self._client = client
        self._model = model
        self._fallback = fallback or DeterministicNarrator()
        self._batch_size = batch_size
        self._timeout = timeout
        self._cache: dict[Hashable, str] = {}
        self.requests = 0
        self.failures = 0

    def prepare(self, assessment: Assessment) -> None:
        """Ask the model for every narrative not cached yet, in batches."""
        pending: dict[Hashable, Finding] = {}
        for finding in assessment.findings():
            key = _key(finding.result, finding.control)
            if key not in self._cache:
                pending.setdefault(key, finding)
        keys = list(pending)
        for start in range(0, len(keys), self._batch_size):
            batch = keys[start : start + self._batch_size]
            self._cache.update(self._ask([(k, pending[k]) for k in batch]))

    def opening(self, result: CheckResult) -> str:
        return ""

    def closing(self, result: CheckResult, control: MappedControl, by_analogy: bool) -> str:
        cached = self._cache.get(_key(result, control))
        if cached:
            return cached
        return narrative(self._fallback, result, control, by_analogy)

    def _ask(self, batch: list[tuple[Hashable, Finding]]) -> dict[Hashable, str]:
        items = [_item(index, finding) for index, (_, finding) in enumerate(batch)]
        self.requests += 1
        try:
            response = self._client.chat.completions.create(
                model=self._model,
                messages=[
                    {"role": "system", "content": SYSTEM_PROMPT},
                    {"role": "user", "content": json.dumps({"items": items})},
                ],
                response_format={"type": "json_object"},
                temperature=0.2,
                timeout=self._timeout,
            )
            content = response.choices[0].message.content or ""
            answers = _parse(content)
        except Exception as exc:  # any failure degrades to the deterministic narrative
            self.failures += 1
            log.warning("narrative_fallback reason=%s", type(exc).__name__)
            return {}
        found: dict[Hashable, str] = {}
        for index, (key, _) in enumerate(batch):
            text = answers.get(index)
            if text:
                found[key] = text
        return found


def _item(index: int, finding: Finding) -> dict[str, Any]:
    check, control = finding.result.check, finding.control
    return {
        "id": index,
        "check": check.title,
        "severity": check.severity,
        "framework": control.framework,
        "control": f"{control.control_id} {control.title}",
        "what_was_seen": describe_evidence(finding.result.evidence),
        "remediation": check.remediation,
    }


def _parse(content: str) -> dict[int, str]:
    document = json.loads(content)
    narratives = document.get("narratives") if isinstance(document, dict) else None
    if not isinstance(narratives, list):
        raise ValueError("no narratives list in the answer")
    parsed: dict[int, str] = {}
    for entry in narratives:
        if isinstance(entry, dict) and isinstance(entry.get("id"), int):
            text = entry.get("narrative")
            if isinstance(text, str) and text.strip():
                parsed[entry["id"]] = text.strip()
    return parsed

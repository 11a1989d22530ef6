"""The LLM narrator: batched chat completions through the ``openai`` library.

Works with Azure OpenAI (``AzureOpenAI``) or any OpenAI-compatible endpoint (``OpenAI`` with a
base URL). The model writes what a failing result means, once per check and evidence: results
with the same check, mapping class (which decides the controls the model is told of) and
evidence share one text, cached for the narrator's life, so a thousand identical failures cost
one item of one request. The rest of a narrative (the resource's
name, each control and severity) is the deterministic narrator's; the fix is not in it, since
every finding carries its check's ``remediation`` beside the narrative.

Any failure gives the deterministic narrative instead: a scan never fails because of narratives.
A malformed answer or a missing item affects only its own batch or item; an endpoint that fails
(unreachable, timing out, refusing the key, erring) is not asked again by this narrator, so a scan
waits for it once, not once per batch.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

from tutela.scanner.catalog.checks import Strength
from tutela.scanner.engine.assess import Assessment, MappedControl
from tutela.scanner.engine.evaluate import CheckResult
from tutela.scanner.narrative.deterministic import (
    DeterministicNarrator,
    describe_evidence,
    resource_noun,
)

if TYPE_CHECKING:
    import openai

log = logging.getLogger("tutela.narrative")

SYSTEM_PROMPT = (
    "You explain cloud compliance findings to risk officers at regulated firms. For each item, "
    "write 2-3 plain-English sentences: what is misconfigured, given what was seen, and why it "
    "matters for the regulatory controls listed. Do not name the resource, do not give the fix "
    "(the finding carries it separately), and do not invent facts beyond the item. Answer with "
    'JSON only: {"narratives": [{"id": <item id>, "narrative": "<text>"}]}.'
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


def _key(result: CheckResult) -> Hashable:
    # The class too: it decides the controls the model is told of (``_item``).
    return (result.check.id, result.mapping_class, repr(result.evidence))


class LLMNarrator:
    """Narratives whose opening a model writes, one request per batch of (check, evidence).

    The opening names the resource and the check id, then gives the model's text; the closing (the
    framework, the control id, the severity, the mapping) is the deterministic narrator's, so it is
    the same whether the model answered or not. Neither repeats the check's title, description or
    remediation, which the finding carries in fields of their own.
    """

    closing_per_control = True  # the closing is the deterministic one

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
        self.gave_up = False  # the endpoint failed: the rest is narrated without it

    def prepare(self, assessment: Assessment) -> None:
        """Ask the model for every (check, evidence) not cached yet, in batches."""
        pending: dict[Hashable, CheckResult] = {}
        for result in assessment.failed_in_order():
            key = _key(result)
            if key not in self._cache:
                pending.setdefault(key, result)
        keys = list(pending)
        for start in range(0, len(keys), self._batch_size):
            if self.gave_up:
                log.warning(
                    "narrative_fallback reason=endpoint_failed skipped=%d", len(keys) - start
                )
                return
            batch = keys[start : start + self._batch_size]
            self._cache.update(self._ask(assessment, [(k, pending[k]) for k in batch]))

    def opening(self, result: CheckResult) -> str:
        text = self._cache.get(_key(result))
        if not text:
            return self._fallback.opening(result)
        check, resource = result.check, result.resource
        return f"The {resource_noun(resource.type)} '{resource.name}' fails {check.id}: {text} "

    def closing(self, result: CheckResult, control: MappedControl, mapping: Strength) -> str:
        return self._fallback.closing(result, control, mapping)

    def _ask(
        self, assessment: Assessment, batch: list[tuple[Hashable, CheckResult]]
    ) -> dict[Hashable, str]:
        import openai

        items = [_item(index, assessment, result) for index, (_, result) in enumerate(batch)]
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
            # The endpoint itself failed (not one answer): asking again would only wait again.
            self.gave_up = isinstance(exc, openai.APIError)
            log.warning("narrative_fallback reason=%s", type(exc).__name__)
            return {}
        found: dict[Hashable, str] = {}
        for index, (key, _) in enumerate(batch):
            text = answers.get(index)
            if text:
                found[key] = text
        return found


def _item(index: int, assessment: Assessment, result: CheckResult) -> dict[str, Any]:
    check = result.check
    return {
        "id": index,
        "check": check.title,
        "about": check.description.strip(),
        "severity": check.severity,
        "what_was_seen": describe_evidence(result.evidence),
        "controls": [
            f"{control.framework} {control.control_id} {control.title}"
            + ("" if mapping == "direct" else f" ({mapping} evidence)")
            for control, mapping in assessment.controls_for(result)
        ],
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

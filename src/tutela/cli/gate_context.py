"""What ``tutela gate`` says about its surroundings: the CI run it labels a report with, and why
the API gave no report, each as one line."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tutela.sdk import TutelaError

LABEL_MAX = 200  # the API's limit on scan_label


# --- the CI run ---------------------------------------------------------------------------------


def ci_label(env: Mapping[str, str]) -> tuple[str, str] | None:
    """``(label, CI name)`` naming the CI run this process belongs to, or None outside CI."""

    def var(name: str) -> str:
        return env.get(name, "").strip()

    def label(system: str, project: str, *parts: tuple[str, str], ref: str) -> str:
        text = system + (f":{project}" if project else "")
        text += "".join(f" {word}{value}" for word, value in parts if value)
        return (text + (f" ({ref})" if ref else ""))[:LABEL_MAX]

    if var("GITHUB_RUN_ID"):
        return label(
            "github-actions",
            var("GITHUB_REPOSITORY"),
            ("run ", var("GITHUB_RUN_ID")),
            ("attempt ", var("GITHUB_RUN_ATTEMPT")),
            ref=var("GITHUB_REF_NAME"),
        ), "GitHub Actions"
    if var("CI_PIPELINE_ID") or var("CI_JOB_ID"):
        return label(
            "gitlab-ci",
            var("CI_PROJECT_PATH"),
            ("pipeline ", var("CI_PIPELINE_ID")),
            ("job ", var("CI_JOB_ID")),
            ref=var("CI_COMMIT_REF_NAME"),
        ), "GitLab CI"
    if var("BUILD_BUILDID") or var("BUILD_BUILDNUMBER"):
        return label(
            "azure-pipelines",
            var("BUILD_REPOSITORY_NAME"),
            ("build ", var("BUILD_BUILDID")),
            ("#", var("BUILD_BUILDNUMBER")),
            ref=var("BUILD_SOURCEBRANCHNAME"),
        ), "Azure Pipelines"
    return None


# --- errors as one line -------------------------------------------------------------------------


def _detail(detail: Any) -> str:
    if isinstance(detail, list) and all(isinstance(e, dict) and "msg" in e for e in detail):
        return "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', []) if p != 'body')}: {e['msg']}".lstrip(": ")
            for e in detail
        )
    return detail if isinstance(detail, str) else json.dumps(detail, default=str)


def _unreachable_reason(exc: BaseException) -> str:
    cause = exc.__cause__
    text = " ".join(str(cause or exc).split())
    lowered = text.lower()
    if "refused" in lowered:
        return "connection refused"
    if any(m in lowered for m in ("name or service not known", "name resolution", "nodename")):
        return "host name not found"
    if "certificate" in lowered or "ssl" in lowered:
        return f"TLS failed ({text})"
    return text or type(cause or exc).__name__


def describe(exc: TutelaError, url: str) -> str:
    """The one line that says why the gate has no report."""
    from tutela.sdk import errors as e

    if isinstance(exc, e.APITimeoutError):
        return f"{url} did not answer in time (raise --timeout for long scans)"
    if isinstance(exc, e.APIConnectionError):
        return f"cannot reach {url}: {_unreachable_reason(exc)}"
    if isinstance(exc, e.APIResponseValidationError):
        return (
            f"{url} answered {exc.status_code} with something that is not a Tutela report: "
            "is --url the Tutela API?"
        )
    if not isinstance(exc, e.APIError):
        return exc.message
    status, detail = exc.status_code, _detail(exc.detail)
    if isinstance(exc, e.AuthenticationError):
        return f"the API refused the key ({status}): {detail}"
    if isinstance(exc, e.QuotaExceededError):
        return f"the scan quota is used up ({status}): {detail} (--dry-run scans without quota)"
    if isinstance(exc, e.PermissionDeniedError):
        return f"the API denied the request ({status}): {detail}"
    if isinstance(exc, e.NotFoundError):
        if detail == "Not Found":  # no route: not the API's own "not found" of an object
            return f"no Tutela API at {url} ({status} Not Found): is --url right?"
        return f"not found ({status}): {detail}"
    if isinstance(exc, e.ValidationError | e.BadRequestError | e.PayloadTooLargeError):
        return f"the API rejected the request ({status}): {detail}"
    if isinstance(exc, e.RateLimitError):
        wait = exc.retry_after
        return f"rate limited ({status}): {detail}" + (f"; retry in {wait:.0f} s" if wait else "")
    if isinstance(exc, e.ServerError):
        where = f" (correlation id {exc.correlation_id})" if exc.correlation_id else ""
        return f"the server failed ({status}): {detail}{where}"
    return f"the API answered {status}: {detail}"

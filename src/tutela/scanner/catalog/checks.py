"""The shapes of the catalogue's checks and controls (validated when the catalogue loads)."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Severity = Literal["critical", "high", "medium", "low"]
SEVERITIES: tuple[Severity, ...] = ("critical", "high", "medium", "low")
Effort = Literal["Low", "Medium", "High"]

CHECK_ID = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$")


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Reference(_Data):
    """Where a check comes from or what it matches in other tools."""

    kind: Literal["azure_policy", "checkov", "prowler", "microsoft_docs", "regulation"]
    id: str | None = None  # policy definition GUID, CKV_AZURE_n, prowler check name
    title: str | None = None  # policy display name, doc title
    url: str | None = None

    @model_validator(mode="after")
    def _named(self) -> Reference:
        if not (self.id or self.title):
            raise ValueError("a reference needs an id or a title")
        return self


class CheckSpec(_Data):
    """One infrastructure check: which resources it reads, how it decides, how to fix a failure.

    ``pass_if`` is a condition in the catalogue's condition language (see catalog/README.md);
    ``evaluator`` names a Python evaluator instead, for logic the language cannot say.
    """

    id: str
    title: str
    description: str
    severity: Severity
    severity_reason: str
    resource_types: tuple[str, ...] = Field(min_length=1)
    applies_if: dict[str, Any] | None = None
    pass_if: dict[str, Any] | None = None
    evaluator: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    remediation: str
    portal_steps: str
    owner_role: str
    effort: Effort
    references: tuple[Reference, ...] = ()

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not CHECK_ID.match(value):
            raise ValueError(f"check id {value!r} must look like AOAI-LOCAL-AUTH")
        return value

    @field_validator("resource_types")
    @classmethod
    def _lower_types(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for resource_type in value:
            if resource_type != resource_type.lower() or "/" not in resource_type:
                raise ValueError(f"resource type {resource_type!r} must be a lower-cased ARM type")
        return value

    @model_validator(mode="after")
    def _one_rule(self) -> CheckSpec:
        if (self.pass_if is None) == (self.evaluator is None):
            raise ValueError(f"check {self.id}: give exactly one of pass_if or evaluator")
        return self


class ControlSpec(_Data):
    """A framework control that infrastructure can evidence, and the checks that evidence it."""

    id: str  # the framework's own identifier, e.g. "A.6.2.6", "MEASURE 2.7", "Art. 12"
    title: str
    checks: tuple[str, ...] = ()
    # Checks mapped by analogy only (the control's text does not reach the resource directly,
    # e.g. generative-AI resources under SR 26-2, which puts generative AI outside its scope).
    analogy_checks: tuple[str, ...] = ()


class FrameworkControls(_Data):
    framework: str
    control_prefix: str  # control ids in findings read "<prefix>-<slug of the control id>"
    # Resource types (``*`` wildcards) the framework reaches only by analogy: every finding on
    # them is marked so, whichever list the check is in (generative AI under SR 26-2).
    analogy_resource_types: tuple[str, ...] = ()
    # Kinds of a type reached only by analogy, where the type as a whole is reached directly
    # (Azure AI Foundry hubs and projects are kinds of the Azure ML workspace type).
    analogy_resource_kinds: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    controls: tuple[ControlSpec, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _each_check_once_per_control(self) -> FrameworkControls:
        for control in self.controls:
            both = set(control.checks) & set(control.analogy_checks)
            if both:
                raise ValueError(
                    f"{self.framework} control {control.id!r} lists {sorted(both)} "
                    "both directly and by analogy"
                )
        return self

    @field_validator("analogy_resource_kinds")
    @classmethod
    def _kinds_of_lower_types(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for resource_type, kinds in value.items():
            if (
                resource_type != resource_type.lower()
                or "/" not in resource_type
                or "*" in resource_type
            ):
                raise ValueError(f"resource type {resource_type!r} must be a lower-cased ARM type")
            if not kinds:
                raise ValueError(f"no kinds given for {resource_type!r}")
        return value

    @field_validator("control_prefix")
    @classmethod
    def _prefix_shape(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Z0-9]+", value):
            raise ValueError(f"control prefix {value!r} must be upper-case letters and digits")
        return value


def finding_control_id(prefix: str, control_id: str) -> str:
    """The control id as findings show it: ``A.6.2.6`` → ``ISO42001-A.6.2.6``.

    Spaces and separators become single hyphens and letters are upper-cased, so
    ``MEASURE 2.7`` → ``NISTAIRMF-MEASURE-2.7`` and ``Art. 12(1)`` → ``EUAIA-ART-12-1``.
    """
    slug = re.sub(r"[^A-Za-z0-9.]+", "-", control_id).strip("-").upper()
    slug = re.sub(r"\.(?=-|$)", "", slug)  # "ART.-12" → "ART-12"
    return f"{prefix}-{slug}"

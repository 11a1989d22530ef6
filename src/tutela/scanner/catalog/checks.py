"""The shapes of the catalogue's checks and controls (validated when the catalogue loads)."""

from __future__ import annotations

import re
from collections.abc import Iterator
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


class PropertyChange(_Data):
    """One property a fix sets on the failing resource, as ARM names it.

    ``value`` is JSON; inside it ``{"param": NAME}`` is a value whoever applies the fix supplies
    (declared in the fix's ``params``) and ``{"resource": "id" | "name" | "location"}`` the
    failing resource's own.
    """

    path: str  # "properties.publicNetworkAccess", "sku.name", "identity.type", "tags.x"
    value: Any

    @field_validator("path")
    @classmethod
    def _arm_path(cls, value: str) -> str:
        head = value.split(".", 1)[0]
        if head not in {"properties", "sku", "identity", "kind", "tags"} or value.endswith("."):
            raise ValueError(
                f"fix path {value!r} must start with properties, sku, identity, kind or tags"
            )
        return value


class AddedResource(_Data):
    """A resource a fix adds: a diagnostic setting on the failing resource, a Defender pricing
    or a policy assignment on its subscription, a private endpoint in its resource group."""

    type: str  # ARM type as ARM spells it, "Microsoft.Insights/diagnosticSettings"
    # "{name}" in it is the failing resource's name: resources added to a resource group (private
    # endpoints) need a name no other fix in that group takes.
    name: str
    scope: Literal["resource", "subscription", "resource_group"]

    @field_validator("name")
    @classmethod
    def _known_placeholders(cls, value: str) -> str:
        if re.sub(r"\{name\}", "", value).count("{") or not value.strip():
            raise ValueError(f"added resource name {value!r}: the only placeholder is {{name}}")
        return value

    @model_validator(mode="after")
    def _unique_in_its_group(self) -> AddedResource:
        if self.scope == "resource_group" and "{name}" not in self.name:
            raise ValueError(
                f"{self.type} {self.name!r} is added to a resource group: its name needs {{name}}"
            )
        return self

    properties: dict[str, Any] = Field(default_factory=dict)


class Fix(_Data):
    """How a failing resource is remediated, as data every output format is rendered from.

    Either configuration (``set`` properties on the resource, ``add`` resources beside it), or
    ``manual``: why no configuration change can fix it (the check's portal steps then say what
    to do). ``params`` names the values whoever applies the fix supplies, each with what it is.
    """

    set: tuple[PropertyChange, ...] = ()
    add: tuple[AddedResource, ...] = ()
    manual: str | None = None
    params: dict[str, str] = Field(default_factory=dict)
    note: str | None = None  # a caveat the scripts repeat (e.g. only settable at creation)

    @model_validator(mode="after")
    def _one_way(self) -> Fix:
        configured = bool(self.set or self.add)
        if configured == bool(self.manual):
            raise ValueError("a fix either sets or adds configuration, or says why it is manual")
        used = set(_params_in([c.value for c in self.set] + [a.properties for a in self.add]))
        if used != set(self.params):
            raise ValueError(
                f"fix params {sorted(self.params)} must be exactly those used {sorted(used)}"
            )
        return self


def _params_in(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        if set(value) == {"param"}:
            yield str(value["param"])
            return
        for item in value.values():
            yield from _params_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _params_in(item)


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
    # How a failure is remediated (issue 16, IaC export): configuration, or why it is manual.
    fix: Fix | None = None

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


Strength = Literal["direct", "supporting", "by analogy"]
STRENGTHS: tuple[Strength, ...] = ("direct", "supporting", "by analogy")


class Mapping(_Data):
    """Checks that evidence a control, how strongly, and why (catalog/README.md, Mappings).

    ``direct``: a failure is evidence an examiner would accept of a gap against the control.
    ``supporting``: the check contributes to the control but does not by itself evidence it.
    ``by analogy``: the control's text does not reach the resource (generative AI under SR 26-2).
    """

    checks: tuple[str, ...] = Field(min_length=1)
    strength: Strength
    # Why the mapping holds, citing the clause: one line a compliance officer can review.
    reason: str = Field(min_length=20)

    @field_validator("reason")
    @classmethod
    def _one_line(cls, value: str) -> str:
        return " ".join(value.split())


class ControlSpec(_Data):
    """A framework control that infrastructure can evidence, and the checks that evidence it."""

    id: str  # the framework's own identifier, e.g. "A.6.2.6", "MEASURE 2.7", "Art. 12"
    title: str
    # Whether the id could be checked against the framework's own text; an unconfirmed one
    # says why in numbering_note, and CHECKS.md and MAPPING.md show it as unconfirmed.
    numbering: Literal["confirmed", "unconfirmed"] = "confirmed"
    numbering_note: str | None = None
    mappings: tuple[Mapping, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> ControlSpec:
        ids = [check for mapping in self.mappings for check in mapping.checks]
        twice = sorted({check for check in ids if ids.count(check) > 1})
        if twice:
            raise ValueError(f"control {self.id!r} maps {twice} more than once")
        if (self.numbering == "unconfirmed") != bool(self.numbering_note):
            raise ValueError(
                f"control {self.id!r}: give a numbering_note exactly when numbering is unconfirmed"
            )
        return self

    @property
    def check_ids(self) -> tuple[str, ...]:
        """Every check mapped to the control, whatever the strength, in catalogue order."""
        return tuple(check for mapping in self.mappings for check in mapping.checks)

    def strength_of(self, check_id: str) -> Strength | None:
        for mapping in self.mappings:
            if check_id in mapping.checks:
                return mapping.strength
        return None

    def mapping_of(self, check_id: str) -> Mapping | None:
        for mapping in self.mappings:
            if check_id in mapping.checks:
                return mapping
        return None

    @property
    def checks(self) -> tuple[str, ...]:
        """The checks mapped directly or as support (not by analogy)."""
        return tuple(
            check
            for mapping in self.mappings
            if mapping.strength != "by analogy"
            for check in mapping.checks
        )

    @property
    def analogy_checks(self) -> tuple[str, ...]:
        """The checks mapped by analogy only."""
        return tuple(
            check
            for mapping in self.mappings
            if mapping.strength == "by analogy"
            for check in mapping.checks
        )


class FrameworkControls(_Data):
    framework: str
    control_prefix: str  # control ids in findings read "<prefix>-<slug of the control id>"
    # An AI framework: general-purpose resources (storage accounts, key vaults, registries,
    # clusters, and subscription-wide settings) count for it only when they belong to an AI
    # workload (catalog/README.md, AI scope). Operational frameworks (DORA, MAS TRM, SOX)
    # cover every ICT asset and say false.
    ai_scoped: bool
    # Resource types (``*`` wildcards) the framework reaches only by analogy: every finding on
    # them is marked so, whichever strength its mapping has (generative AI under SR 26-2).
    analogy_resource_types: tuple[str, ...] = ()
    # Kinds of a type reached only by analogy, where the type as a whole is reached directly
    # (Azure AI Foundry hubs and projects are kinds of the Azure ML workspace type).
    analogy_resource_kinds: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    controls: tuple[ControlSpec, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _analogy_only_where_kept(self) -> FrameworkControls:
        if self.analogy_resource_types or self.analogy_resource_kinds:
            return self
        for control in self.controls:
            if control.analogy_checks:
                raise ValueError(
                    f"{self.framework} control {control.id!r} maps checks by analogy, which is "
                    "kept for frameworks that reach some resources only by analogy (SR 26-2)"
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

"""The AI-scope rules (``ai_scope.yaml``) as validated data: which resources are AI workloads,
which are general-purpose, and the links and tags that put a general-purpose one in scope."""

from __future__ import annotations

import re
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tutela.scanner.catalog import shipped
from tutela.scanner.catalog.loader import CatalogError

_TYPE = re.compile(r"^[a-z0-9.-]+(/[a-z0-9.-]+)+$")
_FIELD = re.compile(r"^properties(\.[A-Za-z0-9_]+(\[\*\])?)+$")


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _arm_type(value: str) -> str:
    if not _TYPE.match(value):
        raise ValueError(f"{value!r} is not a lower-cased ARM type (namespace/type)")
    return value


class AiResourceRule(_Data):
    """A type whose resources are AI workloads (and, with ``children``, its child types)."""

    type: str
    label: str
    children: bool = False
    kinds: dict[str, str] = Field(default_factory=dict)

    @field_validator("type")
    @classmethod
    def _type(cls, value: str) -> str:
        return _arm_type(value)

    def covers(self, resource_type: str) -> bool:
        return resource_type == self.type or (
            self.children and resource_type.startswith(self.type + "/")
        )

    def label_for(self, kind: object) -> str:
        """How a reason names a resource of this type and kind (kinds compare without case);
        a kind a template leaves unknown names it by its type."""
        if isinstance(kind, str) and kind:
            folded = kind.lower()
            for name, label in self.kinds.items():
                if name.lower() == folded:
                    return label
        return self.label


class Condition(_Data):
    """A property whose value (compared without case) must be one of ``in``."""

    field: str
    in_: tuple[str, ...] = Field(alias="in", min_length=1)

    @field_validator("field")
    @classmethod
    def _path(cls, value: str) -> str:
        if not _FIELD.match(value):
            raise ValueError(f"{value!r} is not a properties.… path")
        return value


class GeneralPurposeRule(_Data):
    """A type that serves AI and non-AI workloads alike; ``ai_when`` is a setting of its own that
    puts one in scope (a Cosmos DB account with vector search), ``ai_reason`` says so."""

    type: str
    label: str
    parent: str | None = None
    subscription_wide: bool = False
    ai_when: Condition | None = None
    ai_reason: str | None = None

    @field_validator("type")
    @classmethod
    def _type(cls, value: str) -> str:
        return _arm_type(value)

    @model_validator(mode="after")
    def _one_way_in(self) -> GeneralPurposeRule:
        if self.parent is not None and not self.type.startswith(self.parent + "/"):
            raise ValueError(f"{self.type}: parent {self.parent} is not its parent type")
        if self.parent is not None and self.subscription_wide:
            raise ValueError(f"{self.type}: a child type is not subscription-wide")
        if (self.ai_when is None) != (self.ai_reason is None):
            raise ValueError(f"{self.type}: ai_when and ai_reason go together")
        return self


class LinkRule(_Data):
    """An AI resource's property naming the general-purpose resource it uses."""

    from_: str = Field(alias="from")
    field: str
    to: str
    role: str
    match: Literal["id", "vault_uri"] = "id"
    when: Condition | None = None
    owner: Literal["self", "parent"] = "self"

    @field_validator("field")
    @classmethod
    def _path(cls, value: str) -> str:
        if not _FIELD.match(value):
            raise ValueError(f"{value!r} is not a properties.… path ([*] walks a list)")
        return value


class AiScopeRules(_Data):
    ai_resources: tuple[AiResourceRule, ...] = Field(min_length=1)
    general_purpose: tuple[GeneralPurposeRule, ...] = Field(min_length=1)
    links: tuple[LinkRule, ...]
    tags: tuple[str, ...]
    vault_dns_suffixes: tuple[str, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> AiScopeRules:
        general = {rule.type: rule for rule in self.general_purpose}
        if len(general) != len(self.general_purpose):
            raise ValueError("a general-purpose type is listed twice")
        for gp in self.general_purpose:
            if gp.parent is not None and gp.parent not in general:
                raise ValueError(f"{gp.type}: its parent {gp.parent} is not general-purpose")
        for ai in self.ai_resources:
            if any(ai.covers(t) for t in general):
                raise ValueError(f"{ai.type} is both an AI and a general-purpose type")
        for link in self.links:
            if not any(ai.covers(link.from_) for ai in self.ai_resources):
                raise ValueError(f"link from {link.from_}: not an AI resource type")
            target = general.get(link.to)
            if target is None or target.parent is not None or target.subscription_wide:
                raise ValueError(f"link to {link.to}: not a top-level general-purpose type")
            if link.owner == "parent" and "/" not in link.from_.split("/", 1)[1]:
                raise ValueError(f"link from {link.from_}: a top-level type has no parent owner")
            if link.match == "vault_uri" and link.to != "microsoft.keyvault/vaults":
                raise ValueError(f"link to {link.to}: match vault_uri is for key vaults")
        return self

    def ai_rule(self, resource_type: str) -> AiResourceRule | None:
        return next((rule for rule in self.ai_resources if rule.covers(resource_type)), None)


@cache
def load_ai_scope_rules() -> AiScopeRules:
    """The shipped AI-scope rules, validated once per process."""
    try:
        return AiScopeRules.model_validate(shipped.read_document("ai_scope.yaml"))
    except (ValidationError, shipped.UnreadableCatalogFile, TypeError) as exc:
        raise CatalogError(f"ai_scope.yaml is invalid: {exc}") from exc

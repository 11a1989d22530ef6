"""The dated table of Azure OpenAI model retirements (``model_retirements.yaml``), validated.

Loaded once per process, on first use by the model-retirement evaluator and by a test; a broken
file raises ``CatalogError`` naming the problem.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, PrivateAttr, ValidationError, model_validator

from tutela.scanner.catalog import shipped
from tutela.scanner.catalog.loader import CatalogError

Stage = Literal["retired", "deprecated", "retiring", "current"]


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Data):
    title: str
    url: str


class ModelVersion(_Data):
    """One model version and its published dates."""

    name: str
    version: str
    deprecation: dt.date | None = None
    retirement: dt.date
    # The dates are Microsoft's "no earlier than" dates: the earliest, not a schedule.
    not_before: bool = False
    replacement: str | None = None
    source: str

    @model_validator(mode="after")
    def _ordered(self) -> ModelVersion:
        if self.deprecation is not None and self.deprecation > self.retirement:
            raise ValueError(f"{self.name} {self.version}: deprecated after it retires")
        return self

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"


class RetirementTable(_Data):
    as_of: dt.date  # when the table was last transcribed from its sources
    sources: dict[str, Source]
    models: tuple[ModelVersion, ...]

    _by_key: dict[tuple[str, str], ModelVersion] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> RetirementTable:
        for model in self.models:
            key = (model.name.casefold(), model.version.casefold())
            if key in self._by_key:
                raise ValueError(f"{model.label} is listed twice")
            if model.source not in self.sources:
                raise ValueError(f"{model.label} names unknown source {model.source!r}")
            self._by_key[key] = model
        return self

    def find(self, name: str, version: str) -> ModelVersion | None:
        """The entry for a model version, names and versions compared without case."""
        return self._by_key.get((name.casefold(), version.casefold()))


def stage(model: ModelVersion, as_of: dt.date, notice_days: int) -> Stage:
    """Where the version stands on ``as_of``: retired, deprecated, retiring (within the notice)
    or current.

    A "no earlier than" retirement date that has passed counts as retiring, not retired: the
    version may go at any time but has no firm date. A passed deprecation date counts as
    deprecated, "no earlier than" or not.
    """
    if as_of >= model.retirement and not model.not_before:
        return "retired"
    if model.deprecation is not None and as_of >= model.deprecation:
        return "deprecated"
    if (model.retirement - as_of).days <= notice_days:
        return "retiring"
    return "current"


@cache
def load_model_retirements() -> RetirementTable:
    """The shipped table, validated once per process."""
    try:
        return RetirementTable.model_validate(shipped.read_document("model_retirements.yaml"))
    except (ValidationError, shipped.UnreadableCatalogFile, TypeError) as exc:
        raise CatalogError(f"model_retirements.yaml is invalid: {exc}") from exc

"""Service defaults that changed between API versions: a field condition's ``default_since``.

    {field: properties.supportsHttpsTrafficOnly, equals: true, default_since: {"2019-04-01": true}}

reads: an absent ``supportsHttpsTrafficOnly`` is true on a resource declared with API version
2019-04-01 or later. For an earlier version, or when the source does not say which version (a
Resource Graph export, a Terraform plan), the condition's plain ``default`` applies, and without
one the value is unknown. Only templates give a resource's API version (``Resource.api_version``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True, slots=True)
class VersionedDefault:
    """A default by the first API version it holds from, newest first."""

    since: tuple[tuple[str, Any], ...]

    @classmethod
    def parse(cls, spec: Any) -> VersionedDefault:
        """From ``{"YYYY-MM-DD": default, …}``; ``ValueError`` on anything else."""
        if not isinstance(spec, dict) or not spec:
            raise ValueError("default_since maps API versions (YYYY-MM-DD) to defaults")
        entries = []
        for version, value in spec.items():
            # YAML reads an unquoted 2019-04-01 as a date.
            text = version.isoformat() if isinstance(version, dt.date) else version
            if not isinstance(text, str) or not _DATE.fullmatch(text):
                raise ValueError(f"default_since: {version!r} is not an API version (YYYY-MM-DD)")
            entries.append((text, value))
        return cls(tuple(sorted(entries, reverse=True)))

    def at(self, api_version: str | None) -> Any:
        """The ``(since, default)`` entry for a resource of ``api_version``; None when the version
        is not known (or not a dated one) or falls before every entry."""
        if not isinstance(api_version, str) or not _DATE.match(api_version):
            return None
        date = api_version[:10]  # a preview (2024-06-01-preview) counts from its date
        for entry in self.since:
            if date >= entry[0]:
                return entry
        return None

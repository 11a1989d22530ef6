"""A live Azure estate written out as one Resource Graph export (``tutela export``).

The export is read exactly as a live scan reads the estate (``azure``: the same Resource Graph
queries, every page, then the same ARM list calls), and written in the shape the ``arg`` source
reads: ``{"count", "data": [...], "skip_token": null, "total_records"}``, plus ``live_read``: the
ids whose diagnostic settings were read and those that could not be. With it, a scan of the file
knows what the live read looked at (a kind of fact looked for and none found is "none", not
"not read"; one resource's unreadable settings stay unknown), so it assesses the estate exactly
as a live scan would have.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tutela.scanner.sources.azure import read_live
from tutela.scanner.sources.azure_arm import Progress, Transport
from tutela.scanner.sources.azure_identity import ServicePrincipal


@dataclass(frozen=True, slots=True)
class LiveExport:
    """The export's records, what could not be read (one line each), and whose diagnostics were."""

    records: list[dict[str, Any]]
    warnings: tuple[str, ...] = ()
    diagnosed: dict[str, bool] = field(default_factory=dict)  # resource id → settings read

    def document(self) -> dict[str, Any]:
        """What ``az graph query`` prints for a result read whole, and what the read looked at."""
        count = len(self.records)
        return {
            "count": count,
            "data": self.records,
            "skip_token": None,
            "total_records": count,
            "live_read": {
                "diagnostics_read": sorted(i for i, read in self.diagnosed.items() if read),
                "diagnostics_unread": sorted(i for i, read in self.diagnosed.items() if not read),
            },
        }


def export_live_estate(
    credentials: ServicePrincipal,
    subscription_ids: Iterable[str],
    *,
    transport: Transport | None = None,
    max_workers: int = 4,
    progress: Progress | None = None,
) -> LiveExport:
    """Read the subscriptions as a live scan does (``azure.read_live``: arguments, errors and
    the calls made are its own)."""
    read = read_live(
        credentials,
        subscription_ids,
        transport=transport,
        max_workers=max_workers,
        progress=progress,
    )
    return LiveExport(read.records, read.warnings, read.diagnosed)

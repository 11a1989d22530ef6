"""The plan's limit on resources per scan: what bounds one request's memory and report.

A scan's cost grows with its resources (findings are a few per failing check and resource), so
each plan caps the resources one scan may cover (``max_resources_per_scan`` in plans.yaml). Every
way in is checked before the engine runs, so a refused scan counts nothing and stores nothing:
an IaC body once read into resources, the snapshots of the scanned subscriptions by the counts
stored beside them (nothing is decrypted), a live estate by Resource Graph's count on the first
page of its answer (before the rest is read) and again once read, and a snapshot upload before
it is stored.
"""

from __future__ import annotations

from tutela.scanner.catalog.loader import Plan
from tutela.server.errors import DomainError


class TooManyResources(DomainError):
    """413: the scan (or the snapshot) covers more resources than the plan allows per scan."""

    status_code = 413

    def __init__(self, what: str, count: int, plan: str, limit: int) -> None:
        super().__init__(
            f"{count} resources in {what}; plan '{plan}' allows at most {limit} per scan "
            "(max_resources_per_scan, see GET /plans): scan fewer subscriptions or a smaller "
            "plan or template, or move to a larger plan"
        )


def check_resource_count(plan: Plan, count: int, what: str) -> None:
    """Refuse ``count`` resources (413) when it is over the plan's limit per scan."""
    if count > plan.max_resources_per_scan:
        raise TooManyResources(what, count, plan.id, plan.max_resources_per_scan)


# For the OpenAPI ``responses`` of every route that checks the limit.
TOO_MANY_RESOURCES = "More resources than the plan's `max_resources_per_scan` (see GET /plans)"

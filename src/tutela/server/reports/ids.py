"""Report ids: the seed's ``COMP-YYYYMMDD-HHmmss`` (UTC), and a suffix for the same second.

The first report a tenant stores in a second is named by that second alone
(``COMP-20260519-143022``); the next ones of the same second take ``-2``, ``-3``, …
(``COMP-20260519-143022-2``). An id's second is always its report's ``scan_ts``, ids are unique
per tenant, and no report is ever refused for want of one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

REPORT_ID_FORMAT = "COMP-%Y%m%d-%H%M%S"
# Accepted wherever a report id is read (paths, queries, bodies): with or without the suffix.
REPORT_ID_PATTERN = r"^COMP-\d{8}-\d{6}(-([2-9]|[1-9]\d{1,5}))?$"
REPORT_ID_EXAMPLE = "COMP-20261123-093005"
REPORT_ID_DESCRIPTION = (
    "`COMP-YYYYMMDD-HHmmss` (UTC, the report's `scan_ts`), with `-2`, `-3`, … for a tenant's "
    "further reports of the same second"
)


def second_of(scan_ts: dt.datetime) -> str:
    """The id of the first report of ``scan_ts``'s second, and the prefix of all of them."""
    utc = scan_ts if scan_ts.tzinfo is None else scan_ts.astimezone(dt.UTC)
    return utc.strftime(REPORT_ID_FORMAT)


def first_free(second: str, taken: Collection[str]) -> str:
    """The first id of ``second`` that is not ``taken``: the second itself, then -2, -3, …"""
    if second not in taken:
        return second
    number = 2
    while f"{second}-{number}" in taken:
        number += 1
    return f"{second}-{number}"

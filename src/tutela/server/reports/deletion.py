"""The rule of every bulk DELETE of reports: a named report deletes that report or nothing.

Observed before: a body naming a ``report_id`` without ``selective`` wiped the whole history.
Now a ``report_id`` always means that one report (404 if it is not there, nothing else goes),
and deleting everything must be asked for in so many words: ``{"selective": false}``.
"""

from __future__ import annotations

from dataclasses import dataclass

from tutela.server.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class DeletionRequest:
    """What a DELETE body asked for; ``None`` fields were not sent."""

    selective: bool | None
    report_id: str | None


def one_or_all(request: DeletionRequest | None, *, everything: str) -> str | None:
    """The one report id to delete, or None for all of ``everything``; 422 when unclear.

    ``request`` is None when no body was sent: the caller decides beforehand whether that is
    allowed (the seed's ``DELETE /reports`` is; ``DELETE /governance/history`` is not).
    """
    selective = None if request is None else request.selective
    report_id = None if request is None else request.report_id
    if report_id is not None:
        if selective is False:
            raise InvalidInput(
                ("body", "selective"),
                f"selective is false (delete {everything}) but report_id names one report: "
                "send one or the other",
            )
        return report_id
    if selective is True:
        raise InvalidInput(("body", "report_id"), "Required when selective is true")
    if selective is None:
        raise InvalidInput(
            ("body",),
            'Name the report to delete with {"report_id": "COMP-…"}, or send '
            f'{{"selective": false}} to delete {everything}',
            "missing",
        )
    return None

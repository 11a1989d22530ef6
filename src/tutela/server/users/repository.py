"""SQL for the people's open invitations. The links are auth's table (``auth.links`` writes
them); the list of people reads them to tell an invited person from a lapsed invitation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tutela.server.auth import links
from tutela.server.auth.models import OneTimeLink
from tutela.server.tenants.models import User


def open_invitations(
    session: Session, tenant_id: str, user_ids: Iterable[str], now: dt.datetime
) -> dict[str, dt.datetime]:
    """Until when each of these people's invitation works, for those holding one unused and
    unexpired."""
    rows = session.execute(
        select(OneTimeLink.user_id, func.max(OneTimeLink.expires_at))
        .join(User, User.id == OneTimeLink.user_id)
        .where(
            User.tenant_id == tenant_id,
            OneTimeLink.user_id.in_(list(user_ids)),
            OneTimeLink.purpose == links.INVITATION,
            OneTimeLink.used_at.is_(None),
            OneTimeLink.expires_at > now,
        )
        .group_by(OneTimeLink.user_id)
    )
    return {user_id: expires_at for user_id, expires_at in rows}

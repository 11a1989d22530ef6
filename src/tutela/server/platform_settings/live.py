"""This process's copy of the platform settings in force, re-read from the database when stale.

Every API process, worker and scheduler holds one (``runtime.live``). A read older than
``TUTELA_SETTINGS_REFRESH_SECONDS`` (2 s by default) is replaced at the next use by one SELECT
of the table's few rows, so a change made anywhere applies everywhere within that bound, without
a restart; the process that made it applies it at once (``invalidate`` after the commit). When
the database cannot be read, the last copy stays in force and the read is retried after the
same interval.
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from tutela.scanner.catalog import Catalog
from tutela.server.config import Settings
from tutela.server.db import transaction
from tutela.server.platform_settings import service
from tutela.server.platform_settings.service import InForce

log = logging.getLogger("tutela.platform_settings")


class LiveSettings:
    def __init__(
        self, sessions: sessionmaker[Session], startup: Settings, catalog: Catalog
    ) -> None:
        self._sessions = sessions
        self.startup = startup  # the environment's settings, as read at start
        self.catalog = catalog  # the catalogue as shipped, without quota overrides
        self._lock = threading.Lock()
        self._in_force = service.resolve((), startup, catalog)  # until the first read
        self._read_at: float | None = None  # time.monotonic() of the last read; None: due
        self._changes = 0  # invalidations: a read begun before one is not trusted after it

    def current(self) -> InForce:
        """The settings in force, re-read first when the last read is older than the bound."""
        read_at = self._read_at
        if (
            read_at is not None
            and time.monotonic() - read_at < self.startup.settings_refresh_seconds
        ):
            return self._in_force
        # The first read waits for the lock; later, while one thread re-reads, others go on
        # with the copy they have (at most one more interval old).
        if not self._lock.acquire(blocking=read_at is None):
            return self._in_force
        try:
            if self._read_at == read_at:
                self._read()
        finally:
            self._lock.release()
        return self._in_force

    def invalidate(self) -> None:
        """Re-read at the next use (this process changed the settings)."""
        self._changes += 1
        self._read_at = None

    def rebase(self, *, startup: Settings | None = None, catalog: Catalog | None = None) -> None:
        """Lay the stored settings over other defaults (an environment or catalogue replaced
        while running, as tests do)."""
        self.startup = startup or self.startup
        self.catalog = catalog or self.catalog
        self.invalidate()

    def _read(self) -> None:
        changes = self._changes
        try:
            with transaction(self._sessions, readonly=True) as session:
                self._in_force = service.read(session, self.startup, self.catalog)
        except SQLAlchemyError as exc:
            log.warning("platform_settings_unreadable reason=%s", type(exc).__name__)
        if changes == self._changes:  # else a change committed meanwhile: read again next use
            self._read_at = time.monotonic()

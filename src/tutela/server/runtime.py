"""What one running app holds: settings, the store, keys, the verifier and the limiter.

``settings`` and ``catalog`` are what is in force: the environment and the catalogue with the
platform settings operators change at run time laid over them (tutela.server.platform_settings),
re-read from the database at most every ``TUTELA_SETTINGS_REFRESH_SECONDS``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tutela.scanner.catalog import Catalog, load_catalog
from tutela.server.config import Settings
from tutela.server.crypto import PlatformKeys, load_platform_key
from tutela.server.db import make_engine, make_session_factory, transaction
from tutela.server.encryption.platform_keys import PlatformKeyRing

if TYPE_CHECKING:
    from tutela.scanner.sources.azure_arm import Transport
    from tutela.server.audit.signins import SignInAudit
    from tutela.server.auth.ratelimit import KeyRateLimiter
    from tutela.server.auth.service import AuthCache, KeyVerifier
    from tutela.server.encryption.keyring import Keyring
    from tutela.server.keys.service import KeyPolicy
    from tutela.server.platform_settings.live import LiveSettings


@dataclass
class Runtime:
    startup_settings: Settings  # the environment's, as read at start
    engine: Engine
    sessions: sessionmaker[Session]
    keys: PlatformKeys
    platform_keys: PlatformKeyRing  # the versions of the platform key that wrap data keys
    shipped_catalog: Catalog  # without the operators' quota overrides
    auth_cache: AuthCache
    verifier: KeyVerifier
    rate_limiter: KeyRateLimiter
    live: LiveSettings  # the platform settings in force in this process
    # Handed to the Azure SDK by live scans; None is its own HTTP session. Tests give one
    # that replays recorded responses.
    azure_transport: Transport | None = None

    @classmethod
    def start(cls, settings: Settings) -> Runtime:
        from tutela.server.auth.ratelimit import KeyRateLimiter
        from tutela.server.auth.service import AuthCache, KeyVerifier
        from tutela.server.platform_settings.live import LiveSettings

        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = make_engine(settings.resolved_database_url)
        sessions = make_session_factory(engine)
        keys = PlatformKeys(load_platform_key(settings))
        cache = AuthCache(settings.key_cache_seconds)
        catalog = load_catalog()
        live = LiveSettings(sessions, settings, catalog)
        return cls(
            startup_settings=settings,
            engine=engine,
            sessions=sessions,
            keys=keys,
            platform_keys=PlatformKeyRing(keys.master),
            shipped_catalog=catalog,
            auth_cache=cache,
            verifier=KeyVerifier(
                sessions, keys.api_key_pepper, cache, settings.key_last_used_debounce_seconds
            ),
            rate_limiter=KeyRateLimiter(
                lambda: live.current().settings.rate_limit,
                settings.redis_url,
                tenant_limit=lambda: live.current().settings.tenant_rate_limit,
            ),
            live=live,
        )

    @property
    def settings(self) -> Settings:
        """The settings in force: the environment's, with the operators' rate limits, email
        sender and narratives switch applied."""
        return self.live.current().settings

    @settings.setter
    def settings(self, settings: Settings) -> None:
        self.startup_settings = settings
        self.live.rebase(startup=settings)

    @property
    def catalog(self) -> Catalog:
        """The catalogue in force: as shipped, with the operators' quota overrides applied."""
        return self.live.current().catalog

    @catalog.setter
    def catalog(self, catalog: Catalog) -> None:
        self.shipped_catalog = catalog
        self.live.rebase(catalog=catalog)

    @cached_property
    def sign_ins(self) -> SignInAudit:
        """Failed sign-ins and keys used from new addresses, into the audit log."""
        from tutela.server.audit.signins import SignInAudit

        return SignInAudit(self.sessions)

    @cached_property
    def keyring(self) -> Keyring:
        """Which key seals a tenant's new document and which opens a stored one (PMK or CMK)."""
        from tutela.server.encryption.keyring import Keyring

        return Keyring(self)

    def key_policy(self) -> KeyPolicy:
        from tutela.server.keys.service import KeyPolicy

        return KeyPolicy(
            self.keys.api_key_pepper,
            self.settings.key_expiry_default_days,
            self.settings.key_expiry_max_days,
            self.settings.max_keys_per_user,
        )

    def close(self) -> None:
        self.engine.dispose()


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _request_session(request: Request) -> Iterator[Session]:
    """One transaction per request, committed before the response is sent."""
    runtime = get_runtime(request)
    with transaction(runtime.sessions, readonly=request.method in ("GET", "HEAD")) as session:
        yield session


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SessionDep = Annotated[Session, Depends(_request_session, scope="function")]

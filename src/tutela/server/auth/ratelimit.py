"""Rate limiting with the ``limits`` library: per key and per tenant, in memory or in Redis.

Each key has its own budget, and all the keys of a tenant share a second one, so creating more
keys does not buy more requests. A limit may be given as a function, asked at each request: the
runtime's gives the limit in force (an operator may change it at run time); a changed limit
counts from a fresh window.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    retry_after: int  # seconds until a request would be allowed again (0 when allowed)


_parsed = lru_cache(maxsize=64)(parse)


class KeyRateLimiter:
    def __init__(
        self,
        limit: str | Callable[[], str],
        redis_url: str | None,
        namespace: str = "tutela",
        tenant_limit: str | Callable[[], str | None] | None = None,
    ) -> None:
        self._limit = limit if callable(limit) else lambda: limit
        self._tenant_limit = tenant_limit if callable(tenant_limit) else lambda: tenant_limit
        if redis_url:
            storage = storage_from_string(redis_url, key_prefix=f"{namespace}-ratelimit")
        else:
            storage = storage_from_string("memory://")
        self.storage = storage
        self._limiter = SlidingWindowCounterRateLimiter(storage)

    def hit(self, key_id: str) -> RateDecision:
        return self._hit(_parsed(self._limit()), "key", key_id)

    def hit_tenant(self, tenant_id: str) -> RateDecision | None:
        """The tenant's shared budget; None when no tenant limit is set."""
        tenant_limit = self._tenant_limit()
        if not tenant_limit:
            return None
        return self._hit(_parsed(tenant_limit), "tenant", tenant_id)

    def hit_sign_in(self, source: str, limit: str) -> RateDecision:
        """Password sign-ins from one client address, whoever they name."""
        return self._hit(_parsed(limit), "sign-in", source)

    def _hit(self, item: RateLimitItem, kind: str, identity: str) -> RateDecision:
        allowed = self._limiter.hit(item, kind, identity)
        stats = self._limiter.get_window_stats(item, kind, identity)
        retry_after = 0 if allowed else max(1, math.ceil(stats.reset_time - time.time()))
        return RateDecision(allowed, item.amount, max(0, stats.remaining), retry_after)


def binding(first: RateDecision, second: RateDecision | None) -> RateDecision:
    """The decision the headers report: a refusal, else the budget with fewer requests left."""
    if second is None:
        return first
    if not first.allowed or (second.allowed and first.remaining <= second.remaining):
        return first
    return second

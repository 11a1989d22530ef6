"""Rate limiting with the ``limits`` library: per key and per tenant, in memory or in Redis.

Each key has its own budget, and all the keys of a tenant share a second one, so creating more
keys does not buy more requests.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    retry_after: int  # seconds until a request would be allowed again (0 when allowed)


class KeyRateLimiter:
    def __init__(
        self,
        limit: str,
        redis_url: str | None,
        namespace: str = "tutela",
        tenant_limit: str | None = None,
    ) -> None:
        self._item = parse(limit)
        self._tenant_item = parse(tenant_limit) if tenant_limit else None
        if redis_url:
            storage = storage_from_string(redis_url, key_prefix=f"{namespace}-ratelimit")
        else:
            storage = storage_from_string("memory://")
        self.storage = storage
        self._limiter = SlidingWindowCounterRateLimiter(storage)

    def hit(self, key_id: str) -> RateDecision:
        return self._hit(self._item, "key", key_id)

    def hit_tenant(self, tenant_id: str) -> RateDecision | None:
        """The tenant's shared budget; None when no tenant limit is set."""
        if self._tenant_item is None:
            return None
        return self._hit(self._tenant_item, "tenant", tenant_id)

    def hit_sign_in(self, source: str, limit: str) -> RateDecision:
        """Password sign-ins from one client address, whoever they name."""
        return self._hit(parse(limit), "sign-in", source)

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

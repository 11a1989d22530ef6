"""Tutela: compliance for AI infrastructure on Azure."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["AsyncSession", "Session", "__version__"]

if TYPE_CHECKING:
    from tutela.sdk import AsyncSession, Session

_SDK_EXPORTS = frozenset({"AsyncSession", "Session"})


def __getattr__(name: str) -> Any:
    # The SDK (httpx, pydantic) is imported on first use, so `import tutela` stays cheap.
    if name in _SDK_EXPORTS:
        from tutela import sdk

        return getattr(sdk, name)
    raise AttributeError(f"module 'tutela' has no attribute {name!r}")

"""A kept answer: recorded compressed as it streams out, sealed, and streamed back on replay.

Answers can be scan reports of hundreds of megabytes (tenant data). They are compressed chunk
by chunk as the route sends them, so the server never holds a second whole copy, then sealed
like stored reports: a fresh AES-256-GCM data key wrapped by the platform key, the owner, the
record and the Idempotency-Key bound as associated data. The sealed plaintext is zlib data, as
in ``reports.envelope``; a replay inflates it a block at a time as it is sent.
"""

from __future__ import annotations

import secrets
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from starlette.types import Message

from tutela.server.crypto import KEY_BYTES, DecryptionError, seal, unseal
from tutela.server.reports.envelope import DocumentUnreadable, KeyWrapper, context

# Headers of the first answer that a replay repeats; the others are per request (correlation
# id, rate limit, key expiry) or recomputed (length, encoding: compression is applied outside).
KEPT_HEADERS = ("content-type", "location", "content-location")
REPLAY_BLOCK_BYTES = 1 << 20


@dataclass
class AnswerRecorder:
    """Follows the ASGI messages of one answer: status, kept headers, the body compressed."""

    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    size: int = 0
    complete: bool = False  # the last body message was seen: the body is whole
    _compressor: zlib._Compress = field(default_factory=lambda: zlib.compressobj(1))
    _parts: list[bytes] = field(default_factory=list)

    def record(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            for raw_name, raw_value in message.get("headers", []):
                name = raw_name.decode("latin-1").lower()
                if name in KEPT_HEADERS:
                    self.headers[name] = raw_value.decode("latin-1")
        elif message["type"] == "http.response.body" and not self.complete:
            chunk = message.get("body", b"")
            self.size += len(chunk)
            self._parts.append(self._compressor.compress(chunk))
            if not message.get("more_body", False):
                self._parts.append(self._compressor.flush())
                self.complete = True

    def compressed(self) -> bytes:
        return b"".join(self._parts)


def bound_to(owner: str, record_id: str, key: str) -> bytes:
    """A sealed answer opens only in its own record, for its owner and its key."""
    return context("idempotency", owner, f"{record_id}|{key}")


def seal_answer(wrapper: KeyWrapper, compressed: bytes, bound: bytes) -> tuple[bytes, bytes]:
    """(wrapped data key, sealed body) of an answer already compressed by ``AnswerRecorder``."""
    data_key = secrets.token_bytes(KEY_BYTES)
    return wrapper.wrap(data_key, bound), seal(data_key, compressed, bound)


def open_answer(wrapper: KeyWrapper, wrapped_key: bytes, body: bytes, bound: bytes) -> bytes:
    """The answer's compressed bytes; ``DocumentUnreadable`` if moved, tampered or re-keyed."""
    try:
        return unseal(wrapper.unwrap(wrapped_key, bound), body, bound)
    except DecryptionError as exc:
        raise DocumentUnreadable(str(exc)) from None


def inflate(compressed: bytes) -> Iterator[bytes]:
    """The answer's bytes, a block at a time."""
    inflater = zlib.decompressobj()
    pending = compressed
    while pending:
        block = inflater.decompress(pending, REPLAY_BLOCK_BYTES)
        pending = inflater.unconsumed_tail
        if block:
            yield block
    tail = inflater.flush()
    if tail:
        yield tail

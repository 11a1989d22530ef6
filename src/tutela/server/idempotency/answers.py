"""A kept answer: recorded compressed as it streams out, sealed, and streamed back on replay.

Answers can be scan reports of hundreds of megabytes (tenant data). They are compressed chunk
by chunk as the route sends them, so the server never holds a second whole copy, then sealed
like stored reports: a fresh AES-256-GCM data key wrapped by the platform key, the owner, the
record and the Idempotency-Key bound as associated data. The sealed plaintext is zlib data, as
in ``reports.envelope``; a replay inflates it a block at a time as it is sent.

An answer the route already sent in a content coding (a report in gzip or deflate, see
``responses.EncodedReport``) is kept as it was sent, not compressed again, its coding among
the kept headers. A replay to a client that accepts that coding sends it as kept; to any
other it is decoded a block at a time (the JSON, which ``GZipMiddleware`` may compress).
"""

from __future__ import annotations

import secrets
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from starlette.types import Message

from tutela.server.crypto import KEY_BYTES, DecryptionError, seal, unseal
from tutela.server.reports.envelope import DocumentUnreadable, KeyWrapper, context
from tutela.server.responses import accepts

# Headers of the first answer that a replay repeats; the others are per request (correlation
# id, rate limit, key expiry) or recomputed (length; vary and GZipMiddleware's compression are
# applied outside). A content-encoding set by the route is kept: the body is kept in it.
KEPT_HEADERS = ("content-type", "content-encoding", "location", "content-location")
REPLAY_BLOCK_BYTES = 1 << 20
# The codings a replay can decode for a client that does not accept them (RFC 9110 8.4.1).
_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


@dataclass
class AnswerRecorder:
    """Follows the ASGI messages of one answer: status, kept headers, the body compressed
    (with zlib, or as sent when the route sent it in a content coding)."""

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
            encoded = "content-encoding" in self.headers
            self._parts.append(chunk if encoded else self._compressor.compress(chunk))
            if not message.get("more_body", False):
                if not encoded:
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


def replayed(
    headers: dict[str, str], kept: bytes, accept_encoding: str
) -> tuple[dict[str, str], Iterator[bytes]]:
    """The kept answer's headers and body for a client sending ``accept_encoding``: in the
    coding it was kept in if the client accepts it, else decoded (its length then unknown)."""
    coding = headers.get("content-encoding")
    if coding is None:
        return headers, inflate(kept)
    if coding not in _WBITS or accepts(accept_encoding, coding):
        # GZipMiddleware leaves an encoded answer alone: the vary is said here.
        return {**headers, "vary": "Accept-Encoding"}, iter((kept,))
    decoded = {k: v for k, v in headers.items() if k not in ("content-encoding", "content-length")}
    return decoded, inflate(kept, _WBITS[coding])


def inflate(compressed: bytes, wbits: int = zlib.MAX_WBITS) -> Iterator[bytes]:
    """The answer's bytes, a block at a time (zlib data; gzip with ``wbits`` 16 + 15)."""
    inflater = zlib.decompressobj(wbits)
    pending = compressed
    while pending:
        block = inflater.decompress(pending, REPLAY_BLOCK_BYTES)
        pending = inflater.unconsumed_tail
        if block:
            yield block
    tail = inflater.flush()
    if tail:
        yield tail

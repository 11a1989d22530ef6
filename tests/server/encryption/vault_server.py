"""The FakeVault over HTTPS, for a process the test cannot hand a transport to.

A ``tutela worker`` opens its own ``Runtime`` (``azure_transport=None``), so its Azure SDK
clients use their own HTTP. ``VaultProxy`` reaches them as a corporate network would, with no
hook in the product: an HTTP proxy on 127.0.0.1 that accepts ``CONNECT host:443``, ends TLS in
the tunnel with a certificate for the name the client asks for (SNI), signed by a test CA, and
answers each HTTP/1.1 request inside it with ``FakeVault.send``::

    with VaultProxy(vault, tmp_path) as proxy:
        worker_env = proxy.environment(os.environ)  # a child process's environment

Why three environment variables are enough (read in azure-core 1.41, azure-identity 1.27,
requests 2.34):

- azure-core's ``RequestsTransport`` is the default transport of every client given none
  (``PipelineClient``); ``_init_session`` sets ``session.trust_env`` (``use_env_settings``,
  true by default) and ``send`` calls ``session.request(..., verify=True, proxies=None)``, so
  requests' ``merge_environment_settings`` takes the proxy from ``HTTPS_PROXY`` (``NO_PROXY``
  keeps it off loopback) and the CA bundle from ``REQUESTS_CA_BUNDLE``;
- ``ClientSecretCredential`` hands msal azure-identity's own ``http_client`` (``MsalClient``,
  a pipeline built by ``_internal/pipeline.build_pipeline`` on ``RequestsTransport``), so the
  sign-in takes the same way out. Redis, PostgreSQL and SMTP are not HTTP: untouched.

A host the fake does not serve, or the vault while ``vault.unreachable``, gets 502 to its
CONNECT: requests raises ``ProxyError``, a ``ConnectionError``, which azure-core turns into
``ServiceRequestError`` and retries as it does a refused connection. A tunnel already open when
the vault goes away is closed at its next request.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import ssl
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import h11
from azure.core.exceptions import ServiceRequestError
from azure.core.rest import HttpRequest

from tests.server.encryption.fake_vault import FakeVault
from tests.server.notify.loopback import Pki, issue_ca


class VaultProxy:
    """An HTTPS proxy in a thread whose every tunnel ends at one ``FakeVault``."""

    def __init__(self, vault: FakeVault, folder: Path) -> None:
        self.vault = vault
        self.pki: Pki = issue_ca(folder)
        self.tunnels: list[str] = []  # the target of every CONNECT, refused ones included
        self.forwarded: list[HttpRequest] = []  # every request a tunnel handed to the vault
        self._contexts: dict[str, ssl.SSLContext] = {}
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._tls.sni_callback = self._certificate_for
        self._server = _Server(("127.0.0.1", 0), _Tunnel)
        self._server.proxy = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def environment(self, base: Mapping[str, str]) -> dict[str, str]:
        """``base`` with this proxy and its CA instead of any proxy the shell had (requests
        prefers a lower-case ``https_proxy`` to ``HTTPS_PROXY``)."""
        kept = {k: v for k, v in base.items() if not k.lower().endswith("_proxy")}
        return kept | {
            "HTTPS_PROXY": self.url,
            "REQUESTS_CA_BUNDLE": str(self.pki.ca_file),
            "NO_PROXY": "127.0.0.1,localhost",
        }

    def __enter__(self) -> VaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *args: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            for connection in self._open:  # wakes the tunnels' threads, which then close it
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=5)

    def handle(self, connection: socket.socket) -> None:
        """One client connection: its CONNECT, then the HTTP/1.1 requests in the TLS tunnel."""
        connection.settimeout(30)
        try:
            with self._tracked(connection):
                host = self._connect(connection)
            if host is not None:
                tls = self._tls.wrap_socket(connection, server_side=True)
                with tls, self._tracked(tls):
                    self._serve(host, tls)
        except (OSError, h11.ProtocolError):
            pass  # the client went away, or the test ended: the tunnel closes as a real one does

    def _connect(self, connection: socket.socket) -> str | None:
        """Answer the CONNECT: 200 and the host when it would open, otherwise 502 and None."""
        outer = h11.Connection(h11.SERVER)
        event = _receive(connection, outer)
        if not isinstance(event, h11.Request):
            return None
        target = event.target.decode("ascii")
        self.tunnels.append(target)
        host, _, port = target.rpartition(":")
        if event.method != b"CONNECT" or port != "443" or not self.vault.reachable(host):
            refused = h11.Response(
                status_code=502, reason=b"Bad Gateway", headers=[("Content-Length", "0")]
            )
            connection.sendall(_bytes(outer, refused, h11.EndOfMessage()))
            return None
        _receive(connection, outer)  # the CONNECT's (empty) end of message
        established = h11.Response(status_code=200, reason=b"Connection established", headers=[])
        connection.sendall(_bytes(outer, established))
        return host

    def _serve(self, host: str, tls: ssl.SSLSocket) -> None:
        """Keep-alive: each request in the tunnel answered by the vault, until a side closes."""
        inner = h11.Connection(h11.SERVER)
        while isinstance(event := _receive(tls, inner), h11.Request):
            body = b""
            while isinstance(part := _receive(tls, inner), h11.Data):
                body += part.data
            request = HttpRequest(
                event.method.decode("ascii"),
                f"https://{host}{event.target.decode('ascii')}",
                headers={name.decode(): value.decode() for name, value in event.headers},
                content=body or None,
            )
            self.forwarded.append(request)
            try:
                response = self.vault.send(request)
            except ServiceRequestError:
                return  # the vault went away while the tunnel was open: the connection drops
            kept = [
                (name, value)
                for name, value in response.headers.items()
                if name.lower() not in ("content-length", "transfer-encoding", "connection")
            ]
            length = ("Content-Length", str(len(response.content)))
            head = h11.Response(status_code=response.status_code, headers=[*kept, length])
            tls.sendall(_bytes(inner, head, h11.Data(data=response.content), h11.EndOfMessage()))
            if inner.our_state is h11.MUST_CLOSE:
                return
            inner.start_next_cycle()

    def _certificate_for(self, tls: ssl.SSLObject, name: str | None, _: ssl.SSLContext) -> None:
        """SNI: present a certificate for the host the client names, issued on first use."""
        if name is None:
            return
        with self._lock:
            if name not in self._contexts:
                self._contexts[name] = self.pki.server_context(name)
            tls.context = self._contexts[name]

    @contextlib.contextmanager
    def _tracked(self, connection: socket.socket) -> Iterator[None]:
        """While the block runs, ``__exit__`` can wake a thread blocked reading ``connection``."""
        with self._lock:
            self._open.add(connection)
        try:
            yield
        finally:
            with self._lock:
                self._open.discard(connection)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    proxy: VaultProxy


class _Tunnel(socketserver.BaseRequestHandler):
    server: _Server
    request: socket.socket

    def handle(self) -> None:
        self.server.proxy.handle(self.request)


def _receive(connection: socket.socket, parser: h11.Connection) -> Any:
    """The next h11 event, reading from the socket as needed (b"" is the peer closing)."""
    while (event := parser.next_event()) is h11.NEED_DATA:
        parser.receive_data(connection.recv(65536))
    return event


def _bytes(parser: h11.Connection, *events: Any) -> bytes:
    return b"".join(parser.send(event) or b"" for event in events)

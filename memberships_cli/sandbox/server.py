"""The sandbox's HTTP server: a keep-alive, threaded server on loopback that serves the Api and Admin.

Everything about sockets lives here: request parsing, fault delivery, recording, and shutting
connections down. What to answer is decided by api.py and admin.py.
"""

from __future__ import annotations

import ipaddress
import selectors
import socket
import socketserver
import sys
import threading
import time
import traceback
from collections import deque
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from os import PathLike
from typing import Any, TextIO
from urllib.parse import parse_qsl, urlsplit

from memberships_cli.sandbox import SANDBOX_TOKEN
from memberships_cli.sandbox.admin import Admin
from memberships_cli.sandbox.api import Api
from memberships_cli.sandbox.faults import Fault, FaultQueue
from memberships_cli.sandbox.replies import Reply, error_code, error_reply, not_found
from memberships_cli.sandbox.store import Store, default_db_path

MAX_BODY_BYTES = 10 * 1024 * 1024
# Recorded requests kept; older ones are dropped so a long-running sandbox does not grow forever.
MAX_RECORDED_REQUESTS = 50_000


class _BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _is_loopback(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 keeps connections open between requests, which is what real clients expect.
    protocol_version = "HTTP/1.1"
    server_version = "memberships-sandbox"
    sys_version = ""
    # Idle keep-alive connections are closed after this many seconds instead of pinning a thread.
    timeout = 120
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the access log, when wanted, is written by the sandbox itself."""

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except ConnectionError:
            # Clients hang up mid-request all the time (timeouts, Ctrl-C); that is not an error.
            self.close_connection = True

    def finish(self) -> None:
        try:
            super().finish()
        except ConnectionError:
            pass

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # http.server calls this for requests it cannot parse; answer with the API's Error shape.
        self.close_connection = True
        reply = error_reply(code, error_code(code), message or HTTPStatus(code).phrase)
        self._write(reply)

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_DELETE = do_PUT = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    def _dispatch(self) -> None:
        split = urlsplit(self.path)
        path = split.path
        query: dict[str, str] = {}
        for key, value in parse_qsl(split.query, keep_blank_values=True):
            query.setdefault(key, value)
        try:
            body = self._read_body()
        except _BadRequest as error:
            self.close_connection = True
            self._write(error_reply(error.status, error_code(error.status), str(error)))
            return
        try:
            if path == "/me" or path.startswith("/me/"):
                self._api(path, query)
            elif path.startswith("/_sandbox/"):
                self._admin(path, body)
            else:
                self._write(not_found())
        except ConnectionError:
            raise  # the client left; handle_one_request deals with that
        except Exception:
            # A bug in the sandbox: show it on stderr and still give the client an answer.
            traceback.print_exc(file=sys.stderr)
            self.close_connection = True
            self._write(error_reply(500, "InternalError", "sandbox error"))

    def _read_body(self) -> bytes:
        # Bodies are read in full even when ignored, or the next request on the connection
        # would start in the middle of this one's body.
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        if not length.isascii() or not length.isdigit():
            raise _BadRequest(400, "invalid Content-Length")
        size = int(length)
        if size > MAX_BODY_BYTES:
            raise _BadRequest(413, "request body too large")
        body = self.rfile.read(size)
        if len(body) != size:
            raise _BadRequest(400, "request body shorter than Content-Length")
        return body

    def _read_chunked(self) -> bytes:
        chunks, total = [], 0
        while True:
            line = self.rfile.readline(65537)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError as error:
                raise _BadRequest(400, "invalid chunked body") from error
            if size == 0:
                break
            total += size
            if total > MAX_BODY_BYTES:
                raise _BadRequest(413, "request body too large")
            chunk = self.rfile.read(size)
            self.rfile.readline(3)
            if len(chunk) != size:
                raise _BadRequest(400, "chunked body ended early")
            chunks.append(chunk)
        while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
            pass  # trailers carry nothing the sandbox uses
        return b"".join(chunks)

    def _api(self, path: str, query: dict[str, str]) -> None:
        sandbox = self.server.sandbox
        record = {
            "method": self.command,
            "path": path,
            "query": query,
            "authorization": self.headers.get("Authorization"),
            "user_agent": self.headers.get("User-Agent"),
            "accept": self.headers.get("Accept"),
            "status": 0,
        }
        fault = sandbox.take_fault(self.command, path)
        if fault is not None:
            self._fault(fault, record)
            return
        latency = sandbox.latency
        if latency > 0:
            time.sleep(latency)
        reply = sandbox.api.handle(self.command, path, query, record["authorization"])
        record["status"] = reply.status
        # Recorded before the answer is written, so a client that has its response can rely on
        # the record being there.
        sandbox.record(record)
        self._write(reply)

    def _fault(self, fault: Fault, record: dict[str, Any]) -> None:
        sandbox = self.server.sandbox
        if fault.action != "close":
            record["status"] = fault.status
        # Recorded before the delay, so a test whose client timed out can already see it.
        sandbox.record(record)
        if fault.delay > 0:
            time.sleep(fault.delay)
        if fault.action == "close":
            self.close_connection = True
            sandbox.log_access(self.command, self.path, 0)
            return
        body = fault.payload()
        reply = Reply(fault.status, body, dict(fault.headers), fault.content_type if body else None)
        if fault.action == "truncate":
            self.close_connection = True
            self._write(reply, sent_body=body[: len(body) // 2], reason=fault.reason, trickle=fault.trickle)
        else:
            self._write(reply, reason=fault.reason, trickle=fault.trickle)

    def _admin(self, path: str, body: bytes) -> None:
        if not _is_loopback(self.client_address[0]):
            self._write(error_reply(403, "Forbidden", "sandbox admin is only served on loopback"))
            return
        self._write(self.server.sandbox.admin.handle(self.command, path, body))

    def _write(
        self, reply: Reply, sent_body: bytes | None = None, reason: str | None = None, trickle: float = 0.0
    ) -> None:
        """Send a whole response in one write; `sent_body` replaces the body but not its length,
        `reason` the reason phrase; `trickle` sends it a byte at a time, that many seconds apart."""
        try:
            phrase = HTTPStatus(reply.status).phrase
        except ValueError:
            phrase = ""
        if reason is not None:
            phrase = reason
        headers = {"Date": self.date_time_string(), "Server": self.server_version}
        if reply.content_type:
            headers["Content-Type"] = reply.content_type
        headers.update(reply.headers)
        headers["Content-Length"] = str(len(reply.body))
        if self.close_connection:
            headers["Connection"] = "close"
        head = f"HTTP/1.1 {reply.status} {phrase}\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n"
        # Logged before sending, so the log is complete once the client has its answer.
        # Unparsable requests reach here without a path.
        target = getattr(self, "path", "-")
        self.server.sandbox.log_access(self.command, target, reply.status)
        body = reply.body if sent_body is None else sent_body
        if self.command == "HEAD":
            body = b""
        data = head.encode("latin-1", "replace") + body
        if not trickle:
            self.wfile.write(data)
            return
        self.close_connection = True  # a client that gave up leaves the rest unread
        for i in range(len(data)):
            self.wfile.write(data[i : i + 1])
            self.wfile.flush()
            time.sleep(trickle)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # The default backlog of 5 drops connection attempts when a benchmark opens 16 at once.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], sandbox: SandboxServer) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.sandbox = sandbox
        self.connection_count = 0
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        # stop() writes a byte here to end the serve loop at once; socketserver's own loop
        # only notices shutdown() at its next poll, which made every stop() cost a poll interval.
        self._wake_reader, self._wake_writer = socket.socketpair()
        super().__init__(address, _Handler)

    def serve_until_woken(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self, selectors.EVENT_READ)
            selector.register(self._wake_reader, selectors.EVENT_READ)
            while True:
                ready = {key.fileobj for key, _ in selector.select()}
                if self._wake_reader in ready:
                    return
                self._handle_request_noblock()
                self.service_actions()

    def wake(self) -> None:
        try:
            self._wake_writer.send(b"\0")
        except OSError:
            pass  # already closed: the loop has ended

    def server_close(self) -> None:
        super().server_close()
        self._wake_reader.close()
        self._wake_writer.close()

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's FQDN, which can stall for seconds on DNS.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = host, port

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = super().get_request()
        # Without NODELAY, a response sent in two writes on a reused connection waits for the
        # client's delayed ACK, about 40 ms per request. _write sends one buffer; this keeps
        # small responses prompt even where that is not so (e.g. 100 Continue).
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._open_lock:
            self._open.add(connection)
            self.connection_count += 1
        return connection, address

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_open_connections(self) -> None:
        with self._open_lock:
            open_connections = list(self._open)
        for connection in open_connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already gone

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class SandboxServer:
    """A Bird-compatible API on loopback, backed by a Store, with recording and fault injection."""

    def __init__(
        self,
        store: Store,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str = SANDBOX_TOKEN,
        latency: float = 0.0,
        *,
        access_log: TextIO | None = None,
        owns_store: bool = False,
    ) -> None:
        self.store = store
        self.token = token
        # Seconds slept before answering each /me request; read on every request, so it can be
        # changed while serving.
        self.latency = latency
        self.access_log = access_log
        self._log_lock = threading.Lock()
        self.api = Api(store, token)
        self.admin = Admin(self)
        self._owns_store = owns_store
        self._faults = FaultQueue()
        self._requests: deque[dict[str, Any]] = deque(maxlen=MAX_RECORDED_REQUESTS)
        self._requests_lock = threading.Lock()
        self._httpd = _HTTPServer((host, port), self)
        self._thread: threading.Thread | None = None
        self._loop_thread: threading.Thread | None = None
        self._loop_done = threading.Event()
        self._closed = False
        self._close_lock = threading.Lock()

    @property
    def host(self) -> str:
        return self._httpd.server_address[0]

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def connection_count(self) -> int:
        """TCP connections accepted so far; shows whether clients reuse connections."""
        return self._httpd.connection_count

    @property
    def requests(self) -> list[dict[str, Any]]:
        """A snapshot of the recorded /me requests, oldest first."""
        with self._requests_lock:
            return [dict(record, query=dict(record["query"])) for record in self._requests]

    def record(self, record: dict[str, Any]) -> None:
        with self._requests_lock:
            self._requests.append(record)

    def clear_requests(self) -> int:
        with self._requests_lock:
            cleared = len(self._requests)
            self._requests.clear()
        return cleared

    def add_fault(self, fault: Fault) -> None:
        self._faults.add(fault)

    def clear_faults(self) -> int:
        return self._faults.clear()

    @property
    def pending_faults(self) -> int:
        return len(self._faults)

    def take_fault(self, method: str, path: str) -> Fault | None:
        return self._faults.take(method, path)

    def log_access(self, method: str | None, target: str, status: int) -> None:
        if self.access_log is not None:
            with self._log_lock:  # handler threads share the stream; keep lines whole
                self.access_log.write(f"{method} {target} {status}\n")
                self.access_log.flush()

    def start(self) -> str:
        """Serve on a background daemon thread; returns the base URL."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self.serve_forever, name=f"memberships-sandbox-{self.port}", daemon=True
            )
            self._thread.start()
        return self.url

    def serve_forever(self) -> None:
        """Serve on the calling thread until stop() or an interrupt (KeyboardInterrupt propagates)."""
        if self._closed:
            return
        self._loop_thread = threading.current_thread()
        try:
            self._httpd.serve_until_woken()
        finally:
            self._close()
            self._loop_done.set()

    def stop(self) -> None:
        """Stop serving, drop open connections, and close the store if this server opened it."""
        self._httpd.wake()
        current = threading.current_thread()
        if self._thread is not None and self._thread is not current:
            self._thread.join()
        elif self._loop_thread is current:
            # Called on the serving thread itself (a signal handler): the loop ends right after
            # and closes everything; closing the sockets under it here would break its select().
            return
        elif self._loop_thread is not None:
            self._loop_done.wait()
        self._close()

    def _close(self) -> None:
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        self._httpd.server_close()
        # Keep-alive connections would otherwise stay served by their threads after stop().
        self._httpd.close_open_connections()
        if self._owns_store:
            self.store.close()

    def __enter__(self) -> SandboxServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def run_in_background(
    db_path: str | PathLike[str] | None = None, token: str = SANDBOX_TOKEN
) -> SandboxServer:
    """Open the sandbox store and serve it on an ephemeral loopback port until stop()."""
    store = Store(db_path if db_path is not None else default_db_path())
    server = SandboxServer(store, token=token, owns_store=True)
    server.start()
    return server


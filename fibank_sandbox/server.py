"""HTTP plumbing: a threaded standard-library server that speaks keep-alive HTTP/1.1.

Nagle's algorithm is off (``disable_nagle_algorithm``) because a response written in two pieces
(headers, then body) otherwise waits for the client's delayed ACK, milliseconds per request, which
would make every test and benchmark slow for reasons the real bank does not have. Open
connections are tracked so that stopping the sandbox really closes them, and a client with a
pooled keep-alive connection sees the bank go.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .app import BankApp
from .wire import Request, Response


class SandboxServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer that knows its bank and its open connections."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], app: BankApp) -> None:
        self.app = app
        self.open_sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()
        super().__init__(address, Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Remember the connection so ``close_all`` can end it."""
        with self.sockets_lock:
            self.open_sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        """Forget the connection once its handler is done."""
        with self.sockets_lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)

    def close_all(self) -> None:
        """Cut every open keep-alive connection (stop must not leave a live bank behind)."""
        with self.sockets_lock:
            sockets = list(self.open_sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class Handler(BaseHTTPRequestHandler):
    """Turns ``http.server`` calls into ``Request``/``Response`` values for the app."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "Apache"
    sys_version = ""
    server: SandboxServer

    def do_GET(self) -> None:
        """Serve a GET."""
        self._serve("GET")

    def do_POST(self) -> None:
        """Serve a POST."""
        self._serve("POST")

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: tests and benchmarks make many thousands of requests."""

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        path, _, query = self.path.partition("?")
        headers = {name.lower(): value for name, value in self.headers.items()}
        request = Request(method, path, query, headers, body)
        try:
            response = self.server.app.handle(request)
        except Exception as error:  # an emulator bug must show as a 500, not a hung client
            message = f"sandbox error: {type(error).__name__}: {error}".encode()
            response = Response(HTTPStatus.INTERNAL_SERVER_ERROR, message)
        if response.drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(response.body)


class ServerThread:
    """Runs a SandboxServer in a background thread."""

    def __init__(self, app: BankApp, host: str, port: int) -> None:
        self.server = SandboxServer((host, port), app)
        self._thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fibank-sandbox-{self.port}",
            daemon=True,
        )

    @property
    def port(self) -> int:
        """The port actually bound (a free one when 0 was asked)."""
        return int(self.server.server_address[1])

    def start(self) -> None:
        """Begin serving."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the listening socket and every open connection."""
        self.server.shutdown()
        self.server.close_all()
        self.server.server_close()
        self._thread.join(timeout=5)

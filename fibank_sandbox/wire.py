"""Requests and responses as plain values, and the bank's JSON dialect.

Handlers take a ``Request`` and return a ``Response`` so the login flow and the API can be read
(and reasoned about) without the socket plumbing of ``http.server``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from http import HTTPStatus
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

import simplejson  # type: ignore[import-untyped,unused-ignore]


@dataclass
class Request:
    """What the handler needs from an HTTP request."""

    method: str
    path: str
    query_string: str
    headers: dict[str, str]  # lower-cased names
    body: bytes = b""

    @property
    def query(self) -> dict[str, str]:
        """Query parameters, first value of each (``+`` decodes to a space, as in Spring)."""
        return {k: v[0] for k, v in parse_qs(self.query_string, keep_blank_values=True).items()}

    @property
    def form(self) -> dict[str, str]:
        """A form-encoded body, first value of each field."""
        text = self.body.decode("utf-8", errors="replace")
        return {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}

    @property
    def cookies(self) -> dict[str, str]:
        """Cookies the client sent."""
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(self.headers.get("cookie", ""))
        except Exception:  # a malformed Cookie header is simply no cookie
            return {}
        return {name: morsel.value for name, morsel in jar.items()}

    @property
    def origin(self) -> str:
        """``http://host:port`` as the client addressed us, for absolute redirect URLs."""
        return f"http://{self.headers.get('host', 'localhost')}"


@dataclass
class Response:
    """An answer to send, or ``drop`` to close the connection without answering."""

    status: int = HTTPStatus.OK
    body: bytes = b""
    content_type: str = "text/plain; charset=UTF-8"
    headers: list[tuple[str, str]] = field(default_factory=list)
    drop: bool = False


def dumps(value: Any) -> bytes:
    """JSON the way the bank writes it: real Cyrillic, and decimals exactly (``12.30``)."""
    text: str = simplejson.dumps(
        value, use_decimal=True, ensure_ascii=False, separators=(",", ":"), allow_nan=True
    )
    return text.encode("utf-8")


def json_response(
    value: Any, status: int = HTTPStatus.OK, headers: list[tuple[str, str]] | None = None
) -> Response:
    """A JSON answer."""
    return Response(status, dumps(value), "application/json;charset=UTF-8", headers or [])


def html_response(
    html: str, status: int = HTTPStatus.OK, headers: list[tuple[str, str]] | None = None
) -> Response:
    """An HTML page."""
    return Response(status, html.encode("utf-8"), "text/html;charset=UTF-8", headers or [])


def redirect(location: str, headers: list[tuple[str, str]] | None = None) -> Response:
    """A 302 to an absolute URL, as Spring Security sends them."""
    return Response(
        HTTPStatus.FOUND, b"", "text/html;charset=UTF-8", [("Location", location), *(headers or [])]
    )


def error_json(status: int, error: str, message: str) -> Response:
    """A Spring-Boot-style JSON error body."""
    return json_response({"status": status, "error": error, "message": message}, status)

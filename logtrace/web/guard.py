"""What keeps ``logtrace ui`` safe: a token when it listens beyond this machine, strict headers.

An ASGI middleware around the app:

- **Token.** Started with a ``--host`` other than a loopback address, the server prints a URL
  with a random token (``?token=…``) once and refuses (403) every request without it. The page
  opened with the token gets it as a cookie (HttpOnly, SameSite=Strict) and is sent on to the
  same address without it, so the token does not stay in the address bar or in the history.
  Scripts send ``Authorization: Bearer <token>``.
- **Host.** On a loopback address, requests must name a loopback host (``127.0.0.1``,
  ``localhost``, ``[::1]``): a page of another site cannot reach the server by rebinding a
  name of its own to 127.0.0.1.
- **Headers.** Every response says ``Content-Security-Policy: default-src 'none'; script-src
  'self'; …`` (no inline script, nothing from elsewhere), ``X-Content-Type-Options: nosniff``,
  ``Referrer-Policy: no-referrer`` and ``X-Frame-Options: DENY``.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

COOKIE = "logtrace_token"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


def is_loopback(host: str) -> bool:
    """True for an address only this machine can reach: ``localhost``, an IP address of
    127.0.0.0/8, ``::1`` (``[::1]``). A name that merely starts so (``127.0.0.1.evil.com``)
    is another site's: it could be rebound to 127.0.0.1."""
    if host.lower() == "localhost":
        return True
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Guard:
    """The ASGI middleware described above.

    Args:
        app: the application it guards.
        token: the token every request must carry, or None (loopback: the Host check instead).
    """

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        if self.token is None:
            host = headers.get("host", "")
            if not is_loopback(_hostname(host)):
                await _refuse(send, 421, "this server answers only to 127.0.0.1 and localhost")
                return
        else:
            given = _given_token(scope, headers)
            if given is None or not hmac.compare_digest(given, self.token):
                await _refuse(send, 403, "forbidden: open the URL with the token it printed")
                return
            if _token_in_query(scope):
                await _drop_token(scope, send, self.token)
                return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


def _hostname(host: str) -> str:
    """``127.0.0.1:8000`` -> ``127.0.0.1``; ``[::1]:8000`` -> ``[::1]``. A port that is not
    digits is left on, so the host is not taken for a loopback one."""
    name, port = host, ""
    if host.startswith("["):
        name, _, rest = host.partition("]")
        name += "]"
        port = rest[1:] if rest.startswith(":") else rest
    elif host.count(":") == 1:
        name, port = host.split(":")
    return name if port == "" or port.isdigit() else host


def _query(scope: Scope) -> list[tuple[str, str]]:
    return parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)


def _token_in_query(scope: Scope) -> bool:
    return any(k == "token" for k, _ in _query(scope))


def _given_token(scope: Scope, headers: dict[str, str]) -> str | None:
    for key, value in _query(scope):
        if key == "token":
            return value
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    cookie: SimpleCookie = SimpleCookie()
    try:
        cookie.load(headers.get("cookie", ""))
    except Exception:
        return None
    morsel = cookie.get(COOKIE)
    return None if morsel is None else morsel.value


async def _drop_token(scope: Scope, send: Send, token: str) -> None:
    """Answer a request that carried the token in its URL: set the cookie, redirect without."""
    rest = urlencode([(k, v) for k, v in _query(scope) if k != "token"])
    location = scope.get("path", "/") + (f"?{rest}" if rest else "")
    cookie = f"{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"
    await send(
        {
            "type": "http.response.start",
            "status": 303,
            "headers": [
                (b"location", location.encode("latin-1")),
                (b"set-cookie", cookie.encode("latin-1")),
                (b"content-length", b"0"),
                *HEADERS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": b""})


async def _refuse(send: Send, status: int, text: str) -> None:
    body = (text + "\n").encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                *HEADERS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})

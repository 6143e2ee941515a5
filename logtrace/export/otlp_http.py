"""Sending OTLP over HTTP to a collector (Tempo, Jaeger, Honeycomb, Datadog, any OTLP endpoint).

``POST <endpoint>/v1/traces`` and ``/v1/logs``, protobuf (``application/x-protobuf``, the
OpenTelemetry exporters' default) or JSON (``application/json``). A batch that gets 429 or a
5xx, or no answer, is sent again after a backoff (doubling from 0.5 s, at most 30 s, or what
``Retry-After`` says), until it is through or the time allowed (from the first request) is
spent, which ends the sending; other answers are final. A redirect (3xx) is not followed (the
request's headers, credentials among them, would go to the place it names): it is a failure
that ends the sending, the endpoint being wrong. Headers come from
``OTEL_EXPORTER_OTLP_HEADERS`` (``key=value,key2=value2``, percent-encoded values) and from
the caller; credentials in the endpoint (``https://user:password@host``) are sent as HTTP Basic
auth, and never shown: every message names the endpoint without them.
"""

from __future__ import annotations

import base64
import gzip
import http.client
import os
import re
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from logtrace.format.shown import short_repr

from .model import LOGTRACE_VERSION
from .otlp_json import dumps

PROTOBUF = "http/protobuf"
JSON = "http/json"
PROTOCOLS = (PROTOBUF, JSON)
HEADERS_VARIABLE = "OTEL_EXPORTER_OTLP_HEADERS"
DEFAULT_ENDPOINT = "http://localhost:4318"
SIGNAL_PATHS = {"traces": "/v1/traces", "logs": "/v1/logs"}
FIRST_BACKOFF = 0.5
MAX_BACKOFF = 30.0


def endpoints(url: str) -> dict[str, str]:
    """The URL of each signal: ``url``'s path + ``/v1/traces`` (``/v1/logs``), unless it
    names one; its query (``?key=…``) kept on each, a fragment dropped (never sent)."""
    parts = urllib.parse.urlsplit(url)
    base = parts.path.rstrip("/")
    for path in SIGNAL_PATHS.values():
        if base.endswith(path):
            base = base[: -len(path)]
            break
    return {
        signal: urllib.parse.urlunsplit(parts._replace(path=base + path, fragment=""))
        for signal, path in SIGNAL_PATHS.items()
    }


def parse_headers(text: str | None) -> dict[str, str]:
    """``OTEL_EXPORTER_OTLP_HEADERS``: ``k=v,k2=v2``, values percent-decoded; bad pairs skipped."""
    return {key: value for _, key, value in _header_pairs(text)}


def _header_pairs(text: str | None) -> list[tuple[int, str, str]]:
    """The ``key=value`` pairs of ``text`` with their places (1, 2, …), percent-decoded."""
    out = []
    for place, pair in enumerate((text or "").split(","), 1):
        key, sep, value = pair.partition("=")
        if sep and key.strip():
            out.append(
                (place, urllib.parse.unquote(key.strip()), urllib.parse.unquote(value.strip()))
            )
    return out


class HeaderError(ValueError):
    """A header that cannot be sent. The message names it by its name, or by its place when
    the name itself is bad (it may be a value given without its separator), never its value."""


# RFC 9110: a field name is a token; a value is visible characters, spaces and tabs, and
# obs-text (the bytes 0x80-0xff: http.client sends values as Latin-1).
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_NOT_IN_VALUE = re.compile(r"[^\t\x20-\x7e\x80-\xff]")


def check_header(name: str, value: str, source: str, place: int) -> None:
    """Refuse a header ``http.client`` would refuse (with an error that quotes it) or could
    not send as meant: a name that is not a token, a value with a control character or one
    outside Latin-1.

    Args:
        source: where it was given (``--header``, ``OTEL_EXPORTER_OTLP_HEADERS``, ``headers``).
        place: its place there (1, 2, …): how it is named when its name is bad.

    Raises:
        HeaderError: naming it by ``name`` (or ``place``), never by ``value``.
    """
    if not _HEADER_NAME.fullmatch(name):
        raise HeaderError(
            f"header {place} of {source}: its name is not letters, digits and "
            "!#$%&'*+-.^_`|~ only (not shown: it may hold a value); give NAME=VALUE or "
            "'Name: value'"
        )
    bad = _NOT_IN_VALUE.search(value)
    if bad is not None:
        what = (
            "a character outside Latin-1"
            if ord(bad.group()) > 0xFF
            else "a control character (a newline, say)"
        )
        raise HeaderError(
            f"header {name} of {source}: its value holds {what}, which HTTP cannot send; "
            "give it on one line of plain text (the value is not shown)"
        )


def bad_header_pairs(text: str | None) -> list[int]:
    """The places (1, 2, …) of the pairs of ``text`` that :func:`parse_headers` skips: not
    ``key=value`` (blank ones, as after a trailing comma, are not counted)."""

    def bad(pair: str) -> bool:
        key, sep, _ = pair.partition("=")
        return bool(pair.strip()) and not (sep and key.strip())

    return [n for n, pair in enumerate((text or "").split(","), 1) if bad(pair)]


def without_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """``https://user:pw@host/x`` -> (``https://host/x``, (user, pw)), both percent-decoded;
    a URL without them -> (url, None)."""
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    userinfo, _, host = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    bare = urllib.parse.urlunsplit(parts._replace(netloc=host))
    return bare, (urllib.parse.unquote(user), urllib.parse.unquote(password))


def masked(url: str) -> str:
    """``url`` as it may be shown: credentials in it as ``***`` (``https://***@host/``)."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return "(a URL that does not parse)" if "@" in url else url
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urllib.parse.urlunsplit(parts._replace(netloc=f"***@{host}"))


def parse_header_option(text: str) -> tuple[str, str]:
    """A ``--header`` value: ``Name: value`` or ``name=value``.

    Raises:
        ValueError: neither form.
    """
    for sep in (":", "="):
        key, found, value = text.partition(sep)
        if found and key.strip():
            return key.strip(), value.strip()
    raise ValueError(text)


@dataclass
class Summary:
    """What a run sent: counts per signal, requests, retries and what could not be sent."""

    spans: int = 0
    logs: int = 0
    requests: int = 0
    retries: int = 0
    failed_spans: int = 0
    failed_logs: int = 0
    rejected_spans: int = 0
    rejected_logs: int = 0
    errors: list[str] = field(default_factory=list)

    def note(self, error: str) -> None:
        """Remember an error (the last few only: a long outage must not grow the list)."""
        self.errors.append(error)
        del self.errors[:-10]

    @property
    def ok(self) -> bool:
        """Everything was accepted."""
        return not (self.failed_spans or self.failed_logs)

    def line(self) -> str:
        """One line for people: ``sent 120 spans, 40 log records in 3 requests (2 retries)``."""
        text = (
            f"sent {self.spans} spans, {self.logs} log records in {self.requests} requests "
            f"({self.retries} retries)"
        )
        if self.rejected_spans or self.rejected_logs:
            text += f"; rejected by the receiver: {self.rejected_spans} spans, "
            text += f"{self.rejected_logs} log records"
        if not self.ok:
            text += f"; NOT sent: {self.failed_spans} spans, {self.failed_logs} log records"
            if self.errors:
                text += f" (last error: {self.errors[-1]})"
        return text

    def to_json(self) -> dict[str, Any]:
        """The counts as a dict (``--json``)."""
        return {
            "spans": self.spans,
            "logs": self.logs,
            "requests": self.requests,
            "retries": self.retries,
            "failed_spans": self.failed_spans,
            "failed_logs": self.failed_logs,
            "rejected_spans": self.rejected_spans,
            "rejected_logs": self.rejected_logs,
            "ok": self.ok,
            "last_error": self.errors[-1] if self.errors else None,
        }


class Sender:
    """Posts OTLP requests (the dicts of ``otlp_json``) to an endpoint, with retries.

    Args:
        endpoint: the collector's base URL (``http://collector:4318``) or a signal's URL.
        protocol: ``http/protobuf`` (default) or ``http/json``.
        headers: added to those of ``OTEL_EXPORTER_OTLP_HEADERS`` (``environ``).
        timeout: seconds for one request.
        max_time: seconds the retries may go on, from the first request; a batch still
            failing then ends the sending (the rest is counted as not sent). None: retry
            until through or ``stop`` is set (``--follow``).
        compression: ``gzip`` or None.
        stop: set it to give up waiting between retries.

    Raises:
        ValueError: an unknown protocol, or credentials in ``endpoint`` and an
            ``Authorization`` header too (the message shows the endpoint masked).
        HeaderError: a header that cannot be sent (see :func:`check_header`).
    """

    def __init__(
        self,
        endpoint: str,
        *,
        protocol: str = PROTOBUF,
        headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,
        max_time: float | None = 60.0,
        compression: str | None = None,
        stop: threading.Event | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        if protocol not in PROTOCOLS:
            raise ValueError(f"protocol {short_repr(protocol)}: use one of {', '.join(PROTOCOLS)}")
        env = os.environ if environ is None else environ
        bare, credentials = without_credentials(endpoint)
        self.urls = endpoints(bare)
        self.protocol = protocol
        from_env = env.get(HEADERS_VARIABLE)
        _warn_bad_headers(from_env)
        pairs = _header_pairs(from_env)
        for place, key, value in pairs:
            check_header(key, value, HEADERS_VARIABLE, place)
        for place, (key, value) in enumerate((headers or {}).items(), 1):
            check_header(key, value, "headers", place)
        self.headers = {**{key: value for _, key, value in pairs}, **(headers or {})}
        if credentials is not None:
            if any(key.lower() == "authorization" for key in self.headers):
                raise ValueError(
                    f"{masked(endpoint)}: credentials in the URL and an Authorization header: "
                    "give one"
                )
            pair = ":".join(credentials).encode()
            self.headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        # Redirects are not followed: see the module's docstring.
        self._opener = urllib.request.build_opener(_NoRedirect)
        self.timeout, self.max_time = timeout, max_time
        self.compression = compression
        self.stop = stop or threading.Event()
        self.summary = Summary()
        self._deadline: float | None = None
        # Set when a batch failed for lack of time, or was redirected: the rest are counted,
        # not tried.
        self.gave_up = False
        # Set when the endpoint answered with a redirect: nothing can go through it.
        self.redirected = False

    def send(self, signal: str, request: dict[str, Any], count: int) -> bool:
        """Send one request of ``count`` spans (``signal`` ``traces``) or log records (``logs``).

        Returns whether it was accepted; the summary counts it either way. Once a batch has
        failed after ``max_time`` (counted from the first request), the rest are not tried.
        """
        if self.gave_up:
            self._failed(signal, count)
            return False
        body, content_type = self._encode(signal, request)
        now = time.monotonic()
        if self._deadline is None and self.max_time is not None:
            self._deadline = now + self.max_time
        attempt = 0
        while True:
            status, answer, retry_after = self._post(self.urls[signal], body, content_type)
            self.summary.requests += 1
            if 200 <= status < 300:
                self._accepted(signal, count, answer)
                return True
            if 300 <= status < 400:
                self.gave_up = self.redirected = True
                self._failed(signal, count)
                return False
            retryable = status in (0, 429) or 500 <= status < 600
            delay = min(MAX_BACKOFF, FIRST_BACKOFF * 2**attempt)
            if retry_after is not None:
                delay = max(delay, min(retry_after, MAX_BACKOFF))
            deadline = self._deadline
            out_of_time = deadline is not None and time.monotonic() + delay > deadline
            if not retryable or out_of_time or self.stop.wait(delay):
                self.gave_up = retryable and out_of_time
                self._failed(signal, count)
                return False
            attempt += 1
            self.summary.retries += 1

    def _encode(self, signal: str, request: dict[str, Any]) -> tuple[bytes, str]:
        if self.protocol == JSON:
            body, content_type = dumps(request), "application/json"
        else:
            from . import otlp_proto

            message = (
                otlp_proto.trace_request(request)
                if signal == "traces"
                else otlp_proto.logs_request(request)
            )
            body, content_type = message.SerializeToString(), "application/x-protobuf"
        return body, content_type

    def _post(self, url: str, body: bytes, content_type: str) -> tuple[int, bytes, float | None]:
        """(HTTP status or 0 for no answer, the answer's body, Retry-After seconds)."""
        headers = {"Content-Type": content_type, "User-Agent": f"logtrace/{LOGTRACE_VERSION}"}
        headers.update(self.headers)
        if self.compression == "gzip":
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return response.status, response.read(), None
        except urllib.error.HTTPError as error:
            if 300 <= error.code < 400:
                where = masked(error.headers.get("Location") or "?")
                self.summary.note(
                    f"{url}: the endpoint answered {error.code} (a redirect to {where}); "
                    "give the final URL"
                )
            else:
                self.summary.note(f"{url}: HTTP {error.code}")
            return error.code, b"", _seconds(error.headers.get("Retry-After"))
        except OSError as error:  # refused, reset, timed out, bad URL
            reason = getattr(error, "reason", error)
            self.summary.note(f"{url}: {reason}")
            return 0, b"", None
        except http.client.HTTPException as error:  # an answer that is not HTTP/1.1 (gRPC's)
            self.summary.note(
                f"{url}: the endpoint's answer is not HTTP ({type(error).__name__}): is it an "
                "OTLP/HTTP endpoint? (4317 is OTLP/gRPC's port, 4318 OTLP/HTTP's)"
            )
            return 0, b"", None
        except ValueError as error:  # a bad URL; or a header (check_header refuses them first)
            # http.client's "Invalid header value b'…'" and a UnicodeEncodeError quote the
            # header: their text never goes to the summary.
            if isinstance(error, UnicodeError) or "header" in str(error).lower():
                self.summary.note(f"{url}: a header could not be sent (its text is not shown)")
            else:
                self.summary.note(f"{url}: {error}")
            return 0, b"", None

    def _accepted(self, signal: str, count: int, answer: bytes) -> None:
        from .otlp_proto import rejected

        kind = "application/json" if self.protocol == JSON else "application/x-protobuf"
        refused, message = rejected(signal, answer, kind) if answer else (0, "")
        refused = min(max(refused, 0), count)  # a receiver's count, of what it was sent
        if signal == "traces":
            self.summary.spans += count - refused
            self.summary.rejected_spans += refused
        else:
            self.summary.logs += count - refused
            self.summary.rejected_logs += refused
        if message:
            self.summary.note(message)

    def _failed(self, signal: str, count: int) -> None:
        if signal == "traces":
            self.summary.failed_spans += count
        else:
            self.summary.failed_logs += count


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Follows no redirect: a 3xx reaches the caller as the ``HTTPError`` it is."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _warn_bad_headers(text: str | None) -> None:
    """One line on stderr when pairs of ``OTEL_EXPORTER_OTLP_HEADERS`` are skipped; by their
    places only, as the value holds keys."""
    bad = bad_header_pairs(text)
    if not bad:
        return
    pairs = len((text or "").split(","))
    which = ", ".join(str(n) for n in bad)
    said = f"pair {which} of {pairs} is" if len(bad) == 1 else f"pairs {which} of {pairs} are"
    them = "it" if len(bad) == 1 else "them"
    print(f"logtrace: {HEADERS_VARIABLE}: {said} not key=value; ignoring {them}", file=sys.stderr)


def _seconds(value: str | None) -> float | None:
    try:
        return None if value is None else max(0.0, float(value))
    except ValueError:
        return None


def count_items(request: dict[str, Any]) -> int:
    """How many spans or log records an OTLP JSON request holds."""
    total = 0
    for resource in request.get("resourceSpans", []):
        for scope in resource.get("scopeSpans", []):
            total += len(scope.get("spans", []))
    for resource in request.get("resourceLogs", []):
        for scope in resource.get("scopeLogs", []):
            total += len(scope.get("logRecords", []))
    return total

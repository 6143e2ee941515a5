"""What keeps ``logtrace ui`` safe (logtrace/web/guard.py): token, Host check, headers."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest
from _web_fixtures import demo_dir, server

from logtrace.web.guard import CSP
from logtrace.web.server import background


def _lan_address() -> str | None:
    """An address of this machine other than loopback, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent for UDP connect
            address = str(probe.getsockname()[0])
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_every_response_has_the_strict_headers(server: str) -> None:
    """Pages, assets, JSON and errors all carry the CSP (no inline script) and nosniff."""
    for path in ("", "static/trace.js", "api/traces", "api/trace/zz", "nothing-here"):
        response = httpx.get(server + path)
        assert response.headers["content-security-policy"] == CSP
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
    assert "script-src 'self'" in CSP and "unsafe-inline" not in CSP


def test_loopback_refuses_other_host_names(server: str) -> None:
    """On 127.0.0.1 a request naming another host (DNS rebinding) is refused."""
    assert httpx.get(server + "api/traces").status_code == 200
    assert httpx.get(server.replace("127.0.0.1", "localhost") + "api").status_code == 200
    rebound = httpx.get(server + "api/traces", headers={"host": "attacker.example"})
    assert rebound.status_code == 421


@pytest.mark.parametrize(
    "host", ["127.0.0.1.evil.com", "127.evil.com", "localhost.evil.com", "127.0.0.1:80x"]
)
def test_loopback_refuses_names_that_only_start_like_loopback(server: str, host: str) -> None:
    """A name of another site that begins as a loopback one (``127.0.0.1.evil.com``, which
    its owner can rebind to 127.0.0.1) is refused as ``evil.com`` is."""
    port = server.rsplit(":", 1)[1].strip("/")
    name = host if ":" in host else f"{host}:{port}"
    assert httpx.get(server + "api/traces", headers={"host": name}).status_code == 421


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "[::1]"])
def test_loopback_answers_loopback_names(server: str, host: str) -> None:
    """127.0.0.0/8, localhost and [::1], with or without the port, are answered."""
    port = server.rsplit(":", 1)[1].strip("/")
    for name in (f"{host}:{port}", host):
        assert httpx.get(server + "api/traces", headers={"host": name}).status_code == 200


def test_rebound_page_cannot_post_sql(demo_dir: Path) -> None:
    """With --allow-sql, a page of a rebound name (its Origin equal to its Host) gets no SQL
    run: the Host check refuses it before the Origin check could pass it."""
    with background(str(demo_dir), allow_sql=True) as url:
        port = url.rsplit(":", 1)[1].strip("/")
        rebound = f"127.0.0.1.evil.com:{port}"
        headers = {"host": rebound, "origin": f"http://{rebound}"}
        sql = {"sql": "select count(*) as n from traces"}
        answer = httpx.post(url + "api/sql", json=sql, headers=headers)
        assert answer.status_code == 421 and "rows" not in answer.text
        assert httpx.post(url + "api/sql", json=sql).json()["rows"] == [{"n": 1}]


def test_other_host_needs_the_token(demo_dir: Path) -> None:
    """On another address, requests without the printed token are refused (403); the token
    URL sets a cookie and redirects to the same page without the token."""
    address = _lan_address() or "0.0.0.0"
    with background(str(demo_dir), host=address) as url:
        assert "?token=" in url
        base, token = url.split("?token=")
        base = base.replace("0.0.0.0", "127.0.0.1")
        assert httpx.get(base + "api/traces").status_code == 403
        assert httpx.get(base + "api/traces?token=wrong").status_code == 403
        bad_cookie = {"cookie": "logtrace_token=x"}
        assert httpx.get(base + "api/traces", headers=bad_cookie).status_code == 403
        bearer = httpx.get(base + "api/traces", headers={"authorization": f"Bearer {token}"})
        assert bearer.status_code == 200
        with httpx.Client() as browser:
            first = browser.get(f"{base}trace?id=ab&token={token}")
            assert first.status_code == 303 and first.headers["location"] == "/trace?id=ab"
            assert "HttpOnly" in first.headers["set-cookie"]
            assert "SameSite=Strict" in first.headers["set-cookie"]
            assert browser.get(base + "api/traces").status_code == 200


def test_each_run_has_its_own_token(demo_dir: Path) -> None:
    """Two runs on another address print two different tokens."""
    tokens = []
    for _ in range(2):
        with background(str(demo_dir), host="0.0.0.0") as url:
            tokens.append(url.split("?token=")[1])
    assert tokens[0] != tokens[1] and len(tokens[0]) >= 24


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_loopback_has_no_token(demo_dir: Path, host: str) -> None:
    """On a loopback address the URL has no token and requests need none."""
    with background(str(demo_dir), host=host) as url:
        assert "token" not in url
        assert httpx.get(url.replace("localhost", "127.0.0.1") + "api").status_code == 200

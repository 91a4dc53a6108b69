"""The security headers `musicrec serve` adds (app/security.py) are production's: the ones
nginx adds at the edge (nginx/templates/default.conf.template), except that connect-src also
allows the same-origin ws:// URL, because the embedded default serves plain http."""

from __future__ import annotations

import re

from app.security import SECURITY_HEADERS, csp
from tests.realtime.conftest import ROOT

TEMPLATE = (ROOT / "nginx" / "templates" / "default.conf.template").read_text()


def _nginx_headers() -> dict[str, str]:
    return {name.lower(): value for name, value in re.findall(r'^\s*add_header\s+(\S+)\s+"([^"]*)"', TEMPLATE,
                                                               re.MULTILINE)}


def _directives(policy: str) -> dict[str, set[str]]:
    return {part.split()[0]: set(part.split()[1:]) for part in policy.split(";") if part.strip()}


def test_the_app_sends_the_headers_nginx_sends() -> None:
    nginx = _nginx_headers()
    for name, value in SECURITY_HEADERS.items():
        assert nginx[name.lower()] == value, name
    # HSTS only makes sense over TLS, which only the edge speaks.
    assert set(nginx) - {n.lower() for n in SECURITY_HEADERS} == {"strict-transport-security",
                                                                  "content-security-policy"}


def test_the_app_policy_is_nginx_policy_plus_same_origin_ws() -> None:
    host = "music.example:8080"
    nginx = _directives(_nginx_headers()["content-security-policy"].replace("$http_host", host))
    ours = _directives(csp(host))
    assert ours.keys() == nginx.keys()
    for name in nginx:
        if name != "connect-src":
            assert ours[name] == nginx[name], name
    assert ours["connect-src"] == nginx["connect-src"] | {f"ws://{host}"}


def test_nginx_hides_the_backend_copies_so_a_browser_gets_one_of_each() -> None:
    hidden = {h.lower() for h in re.findall(r"^\s*proxy_hide_header\s+(\S+);", TEMPLATE, re.MULTILINE)}
    assert {n.lower() for n in SECURITY_HEADERS} | {"content-security-policy"} <= hidden


def test_a_host_header_cannot_write_into_the_policy() -> None:
    assert _directives(csp("evil.example; script-src *"))["connect-src"] == {"'self'"}
    assert _directives(csp(None))["connect-src"] == {"'self'"}
    assert _directives(csp("[::1]:8080"))["connect-src"] == {"'self'", "ws://[::1]:8080", "wss://[::1]:8080"}

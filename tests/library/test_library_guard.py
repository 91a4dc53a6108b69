"""A listener cannot make the server fetch what only the server can reach: the address policy
of libraries connected through the HTTP API (recsys/importers/net_guard.py), its settings, and
the clear refusal that tells the administrator what to do instead."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from app.factory import create_app
from recsys.importers.net_guard import AddressPolicy, AddressRefused, GuardedTransport
from tests.conftest import DATABASE_URL, make_settings, unique_name


def _ips(*values: str) -> list[Any]:
    return [ipaddress.ip_address(v) for v in values]


@pytest.mark.parametrize("address", ["169.254.169.254", "fe80::1", "fd00:ec2::254", "100.100.100.200",
                                     "0.0.0.0", "::ffff:169.254.169.254", "224.0.0.1"])
def test_metadata_and_link_local_addresses_are_refused_even_when_listed(address: str) -> None:
    policy = AddressPolicy.build(["metadata.internal", "0.0.0.0/0", "::/0"])
    with pytest.raises(AddressRefused, match="link-local, metadata or special"):
        policy.check("metadata.internal", _ips(address))


def test_without_an_allow_list_the_lan_is_allowed_and_loopback_is_not() -> None:
    policy = AddressPolicy.build([], own_hosts=["music.example.org"])
    policy.check("navidrome.lan", _ips("192.168.1.20"))
    policy.check("gonic", _ips("172.18.0.5", "fd12::5"))
    policy.check("public.example.net", _ips("93.184.215.14"))
    for loopback in ("127.0.0.1", "::1", "::ffff:127.0.0.1"):
        with pytest.raises(AddressRefused, match="loopback"):
            policy.check("localhost", _ips(loopback))
    with pytest.raises(AddressRefused, match="this server itself"):
        policy.check("music.example.org", _ips("93.184.215.14"))
    # One bad address among good ones is enough: a name that resolves to several is refused.
    with pytest.raises(AddressRefused):
        policy.check("mixed.example", _ips("192.168.1.20", "127.0.0.1"))


def test_an_allow_list_admits_only_its_hosts_and_networks() -> None:
    policy = AddressPolicy.build(["navidrome.lan", "10.0.0.0/8", "127.0.0.1"])
    policy.check("Navidrome.LAN.", _ips("192.168.7.7"))
    policy.check("anything", _ips("10.1.2.3"))
    policy.check("localhost", _ips("127.0.0.1"))  # listed, so loopback is the admin's choice
    with pytest.raises(AddressRefused, match="not in library_allowed_hosts"):
        policy.check("other.lan", _ips("192.168.7.8"))


async def test_the_transport_connects_to_the_address_it_checked() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    transport = GuardedTransport(AddressPolicy.build(["10.9.8.7"]), httpx.MockTransport(handler))
    async with httpx.AsyncClient(transport=transport) as client:
        await client.get("https://10.9.8.7:4533/rest/ping.view")
        with pytest.raises(AddressRefused):
            await client.get("http://169.254.169.254/latest/meta-data/")
    assert len(seen) == 1 and seen[0].url.host == "10.9.8.7"
    assert seen[0].headers["Host"] == "10.9.8.7:4533" and seen[0].extensions["sni_hostname"] == "10.9.8.7"


@pytest.fixture(scope="module")
async def clients(tmp_path_factory: pytest.TempPathFactory, run_schema: str) -> AsyncIterator[dict[str, Any]]:
    """Two apps: the default policy (no allow-list) and one that lists a LAN network only."""
    schema = run_schema + "_guard"
    default = create_app(make_settings(tmp_path_factory.mktemp("guard"), db_schema=schema,
                                       library_check_interval_s=3600, library_analysis_workers=0))
    listed = create_app(make_settings(tmp_path_factory.mktemp("guard2"), db_schema=schema,
                                      library_check_interval_s=3600, library_analysis_workers=0,
                                      library_allowed_hosts=["192.168.50.0/24"]))
    async with default.test_app() as one, listed.test_app() as two:
        found = {}
        for name, app in (("default", one), ("listed", two)):
            client = app.test_client()
            login = {"username": unique_name(), "password": "correct horse battery"}
            response = await client.post("/api/auth/register", json=login)
            assert response.status_code == 201
            found[name] = client
        yield found
    conn = await asyncpg.connect(DATABASE_URL)
    await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    await conn.close()


async def _add(client: Any, url: str) -> tuple[int, dict[str, Any]]:
    response = await client.post("/api/libraries", json={"url": url, "username": "u", "password": "p"})
    return response.status_code, (await response.get_json())


@pytest.mark.parametrize("url", ["http://127.0.0.1:55432", "http://localhost:8080",
                                 "http://169.254.169.254/latest", "http://[::1]:6379"])
async def test_the_api_refuses_loopback_and_metadata_with_a_hint_for_the_admin(
        clients: dict[str, Any], url: str) -> None:
    status, body = await _add(clients["default"], url)
    assert status == 403 and body["error"]["code"] == "library_address_refused"
    assert "musicrec library add" in body["error"]["message"]
    assert "library_allowed_hosts" in body["error"]["message"]


async def test_with_an_allow_list_other_hosts_are_refused(clients: dict[str, Any]) -> None:
    status, body = await _add(clients["listed"], "http://10.20.30.40:4533")
    assert status == 403 and "not in library_allowed_hosts" in body["error"]["message"]
    # A listed address gets through the policy (and then finds nobody there: unreachable).
    status, body = await _add(clients["listed"], "http://192.168.50.1:9")
    assert body["error"]["code"] != "library_address_refused"

"""The scripts that run inside the containers, run here: nginx's first-start certificate, the
frontend's publishing of the build into the shared volume, its static server on port 3000, and
the backend image's healthcheck."""

from __future__ import annotations

import contextlib
import http.server
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
CERT_SCRIPT = REPO / "nginx" / "docker-entrypoint.d" / "15-musicrec-tls-cert.sh"
PUBLISH = REPO / "frontend" / "docker" / "entrypoint.sh"
SERVER = REPO / "frontend" / "docker" / "serve.mjs"

needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")


def _cert(tmp: Path, name: str = "localhost", **extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NGINX_SSL_CERT": str(tmp / "certs" / "fullchain.pem"),
           "NGINX_SSL_KEY": str(tmp / "certs" / "privkey.pem"), "NGINX_SERVER_NAME": name, **extra}
    return subprocess.run(["sh", str(CERT_SCRIPT)], env=env, capture_output=True, text=True, timeout=30)


def _x509(cert: Path, *args: str) -> str:
    return subprocess.run(["openssl", "x509", "-in", str(cert), "-noout", *args],
                          capture_output=True, text=True, check=True, timeout=10).stdout


def test_the_nginx_image_runs_the_script_on_start() -> None:
    assert os.access(CERT_SCRIPT, os.X_OK)  # /docker-entrypoint.sh skips files that are not
    assert CERT_SCRIPT.read_text().startswith("#!/bin/sh")


@needs_openssl
def test_first_start_makes_a_self_signed_certificate_once(tmp_path: Path) -> None:
    made = _cert(tmp_path, "music.example.org")
    assert made.returncode == 0, made.stderr
    cert, key = tmp_path / "certs" / "fullchain.pem", tmp_path / "certs" / "privkey.pem"
    assert (key.stat().st_mode & 0o777) == 0o600
    names = _x509(cert, "-ext", "subjectAltName")
    assert "DNS:music.example.org" in names and "DNS:localhost" in names
    assert "CN = music.example.org" in _x509(cert, "-subject")
    assert subprocess.run(["openssl", "x509", "-in", str(cert), "-noout", "-checkend", str(365 * 86400)],
                          capture_output=True, timeout=10).returncode == 0
    before = cert.read_bytes()

    again = _cert(tmp_path, "music.example.org")  # every later start keeps it
    assert again.returncode == 0 and "using the certificate" in again.stderr
    assert cert.read_bytes() == before


@needs_openssl
def test_a_real_certificate_is_never_overwritten(tmp_path: Path) -> None:
    certs = tmp_path / "certs"
    certs.mkdir()
    (certs / "fullchain.pem").write_text("a real chain\n")
    (certs / "privkey.pem").write_text("a real key\n")
    assert _cert(tmp_path).returncode == 0
    assert (certs / "fullchain.pem").read_text() == "a real chain\n"
    (certs / "privkey.pem").unlink()  # half a pair: refuse rather than guess
    half = _cert(tmp_path)
    assert half.returncode != 0 and "refusing" in half.stderr
    assert (certs / "fullchain.pem").read_text() == "a real chain\n"


def _build(dist: Path, marker: str, asset: str) -> None:
    (dist / "assets").mkdir(parents=True, exist_ok=True)
    (dist / "index.html").write_text(f"<html>{marker}</html>")
    (dist / "assets" / asset).write_text(f"// {marker}")
    (dist / "favicon.svg").write_text("<svg/>")


def _publish(dist: Path, target: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DIST_DIR": str(dist), "PUBLISH_DIR": str(target)}
    return subprocess.run(["sh", str(PUBLISH), "true"], env=env, capture_output=True, text=True, timeout=30)


def test_the_frontend_publishes_its_build_for_nginx(tmp_path: Path) -> None:
    target = tmp_path / "volume"
    _build(tmp_path / "v1", "v1", "index-aaa111.js")
    assert _publish(tmp_path / "v1", target).returncode == 0
    assert (target / "index.html").read_text() == "<html>v1</html>"
    assert (target / "favicon.svg").exists()

    _build(tmp_path / "v2", "v2", "index-bbb222.js")  # an upgrade
    assert _publish(tmp_path / "v2", target).returncode == 0
    assert (target / "index.html").read_text() == "<html>v2</html>"
    # Pages still open on v1 can load their chunks; nothing half-written is left behind.
    assert {p.name for p in (target / "assets").iterdir()} == {"index-aaa111.js", "index-bbb222.js"}
    assert not list(target.glob(".index.html.*"))


def test_publishing_without_a_build_fails(tmp_path: Path) -> None:
    result = _publish(tmp_path / "nothing", tmp_path / "volume")
    assert result.returncode != 0 and "no build" in result.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Backend(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = f'{{"path": "{self.path}", "real_ip": "{self.headers.get("X-Real-IP")}"}}'.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def frontend_server(tmp_path: Path) -> Iterator[str]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    dist = tmp_path / "dist"
    _build(dist, "player", "index-ccc333.js")
    backend = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Backend)
    threading.Thread(target=backend.serve_forever, daemon=True).start()
    port = _free_port()
    env = {**os.environ, "DIST_DIR": str(dist), "HOST": "127.0.0.1", "PORT": str(port),
           "BACKEND_URL": f"http://127.0.0.1:{backend.server_address[1]}"}
    proc = subprocess.Popen([node, str(SERVER)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            assert proc.poll() is None and time.monotonic() < deadline, proc.stdout and proc.stdout.read()
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)
        backend.shutdown()


def test_the_frontend_server_on_port_3000(frontend_server: str) -> None:
    with httpx.Client(base_url=frontend_server) as client:
        for path in ("/", "/player/route"):
            page = client.get(path)
            assert page.status_code == 200 and page.text == "<html>player</html>"
            assert page.headers["cache-control"] == "no-cache"
            assert page.headers["x-content-type-options"] == "nosniff"
            assert "script-src 'self' blob:;" in page.headers["content-security-policy"]
        asset = client.get("/assets/index-ccc333.js")
        assert asset.status_code == 200 and "immutable" in asset.headers["cache-control"]
        assert asset.headers["content-type"].startswith("text/javascript")
        assert client.get("/assets/missing.js").status_code == 404
        assert client.get("/%2e%2e/%2e%2e/etc/passwd").text == "<html>player</html>"  # no escape
        assert client.post("/").status_code == 405
        proxied = client.get("/api/health?x=1")
        assert proxied.json() == {"path": "/api/health?x=1", "real_ip": "127.0.0.1"}


def _healthcheck_script() -> str:
    dockerfile = (REPO / "Dockerfile").read_text()
    found = re.search(r"<<'EOF' /usr/local/bin/musicrec-healthcheck\n(.*?)\nEOF\n", dockerfile, re.DOTALL)
    assert found, "the healthcheck script is written into the image by the Dockerfile"
    return found.group(1)


@pytest.mark.parametrize(("status", "body", "strict", "healthy"), [
    (200, '{"postgres": "ok", "redis": "ok", "qdrant": "ok"}', False, True),
    (503, '{"postgres": "ok", "redis": "ok", "qdrant": "down"}', False, True),
    (503, '{"postgres": "ok", "redis": "ok", "qdrant": "down"}', True, False),
    (503, '{"postgres": "down", "redis": "ok", "qdrant": "ok"}', False, False),
    (502, "<html>bad gateway</html>", False, False),
])
def test_the_backend_image_healthcheck(tmp_path: Path, status: int, body: str, strict: bool,
                                       healthy: bool) -> None:
    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status)
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    script = tmp_path / "musicrec-healthcheck"
    script.write_text(_healthcheck_script())
    env = {**os.environ, "MUSICREC_PORT": str(server.server_address[1]),
           "MUSICREC_HEALTHCHECK_STRICT": "true" if strict else ""}
    try:
        result = subprocess.run(["python3", str(script)], env=env, capture_output=True, text=True, timeout=30)
    finally:
        server.shutdown()
    assert (result.returncode == 0) == healthy, result.stdout + result.stderr


def test_the_backend_image_healthcheck_without_a_server(tmp_path: Path) -> None:
    script = tmp_path / "musicrec-healthcheck"
    script.write_text(_healthcheck_script())
    env = {**os.environ, "MUSICREC_PORT": str(_free_port())}
    result = subprocess.run(["python3", str(script)], env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 1 and "no answer" in result.stdout

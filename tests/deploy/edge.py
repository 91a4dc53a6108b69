"""A local copy of the production edge: Debian's nginx with the real nginx/ template in front of
two `musicrec serve` processes on the CI PostgreSQL and Redis (isolated schema and key prefix).
Used by test_nginx_edge.py; kept apart so the test file reads as the list of claims."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.ports import free_port

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "nginx" / "templates" / "default.conf.template"
CERT_SCRIPT = REPO / "nginx" / "docker-entrypoint.d" / "15-musicrec-tls-cert.sh"
DATABASE_URL = os.environ.get("MUSICREC_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("MUSICREC_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SECRET_KEY = "deploy-test-secret-not-for-production-" + secrets.token_hex(8)
# Big enough for gzip (gzip_min_length 1024), with a hashed name like Vite's.
ASSET_NAME = "x-abc123.js"
ASSET_BODY = "export const tune = " + repr("la " * 900) + ";\n"
INDEX_MARKER = "<!-- musicrec deploy test index -->"


def render(template: str, values: dict[str, str]) -> str:
    """Fills ${NGINX_*} placeholders as the nginx image's envsubst step does."""
    wanted = set(re.findall(r"\$\{(NGINX_[A-Z0-9_]+)\}", template))
    missing = wanted - set(values)
    assert not missing, f"no value for {sorted(missing)}"
    return re.sub(r"\$\{(NGINX_[A-Z0-9_]+)\}", lambda m: values[m.group(1)], template)


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@dataclass
class Backend:
    name: str
    port: int
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        handle = self.log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cli", "serve"],
            cwd=REPO, env=self.env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True,
        )
        handle.close()

    def wait_ready(self, timeout: float = 45.0) -> None:
        """Until /api/health answers JSON (200, or 503 while a part such as Qdrant is down)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive:
                raise RuntimeError(f"{self.name} exited:\n{tail(self.log)}")
            with contextlib.suppress(httpx.HTTPError):
                answer = httpx.get(f"http://127.0.0.1:{self.port}/api/health", timeout=2)
                if answer.status_code in (200, 503) and "postgres" in answer.json():
                    return
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready in {timeout} s:\n{tail(self.log)}")

    def kill(self) -> None:
        """SIGKILL: the crash case (no graceful close of anything)."""
        if self.alive:
            assert self.proc is not None
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.alive:
            assert self.proc is not None
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Edge:
    root: Path
    http_port: int
    https_port: int
    cert: Path
    backends: list[Backend]
    schema: str
    redis_prefix: str
    nginx: subprocess.Popen[bytes] | None = None
    access_log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.access_log = self.root / "access.log"

    @property
    def origin(self) -> str:
        return f"https://localhost:{self.https_port}"

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.origin, verify=self.ssl_context(), timeout=20,
                            headers={"Origin": self.origin})

    def ensure_backends(self) -> None:
        """Restarts any backend a test killed, then waits until every one answers."""
        for backend in self.backends:
            if not backend.alive:
                backend.start()
        for backend in self.backends:
            backend.wait_ready()

    def upstreams_seen(self) -> list[list[str]]:
        """Per proxied request, the backends nginx tried, in order (the last one answered)."""
        return [[a.strip() for a in line.split(",")]
                for line in re.findall(r'upstream="([^"-][^"]*)"', self.access_log.read_text())]


def make_site(root: Path) -> Path:
    www = root / "www"
    (www / "assets").mkdir(parents=True)
    (www / "index.html").write_text(
        f"<!doctype html><html><head><title>musicrec</title>"
        f'<script type="module" src="/assets/{ASSET_NAME}"></script></head>'
        f'<body><div id="root"></div>{INDEX_MARKER}</body></html>\n'
    )
    (www / "assets" / ASSET_NAME).write_text(ASSET_BODY)
    (www / "favicon.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>\n')
    return www


def make_cert(root: Path) -> tuple[Path, Path]:
    """The first-start script of the nginx image makes it (openssl), as it would in Docker."""
    cert, key = root / "certs" / "fullchain.pem", root / "certs" / "privkey.pem"
    subprocess.run(["sh", str(CERT_SCRIPT)], check=True, capture_output=True, timeout=30,
                   env={**os.environ, "NGINX_SSL_CERT": str(cert), "NGINX_SSL_KEY": str(key),
                        "NGINX_SERVER_NAME": "localhost"})
    return cert, key


def nginx_conf(root: Path, values: dict[str, str]) -> Path:
    """The site from nginx/ rendered, inside a minimal main config (paths under root)."""
    site = root / "conf.d" / "default.conf"
    site.parent.mkdir(parents=True, exist_ok=True)
    site.write_text(render(TEMPLATE.read_text(), values))
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (root / "temp" / sub).mkdir(parents=True, exist_ok=True)
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must read the tmp files
    conf = root / "nginx.conf"
    conf.write_text(
        f"daemon off;\n{user}worker_processes 1;\npid {root}/nginx.pid;\n"
        f"error_log {root}/error.log info;\n"
        "events { worker_connections 512; }\n"
        "http {\n"
        "    include /etc/nginx/mime.types;\n"
        "    default_type application/octet-stream;\n"
        "    log_format edge '$request_method $uri $status upstream=\"$upstream_addr\"';\n"
        f"    access_log {root}/access.log edge;\n"
        f"    client_body_temp_path {root}/temp/body;\n"
        f"    proxy_temp_path {root}/temp/proxy;\n"
        f"    fastcgi_temp_path {root}/temp/fastcgi;\n"
        f"    uwsgi_temp_path {root}/temp/uwsgi;\n"
        f"    scgi_temp_path {root}/temp/scgi;\n"
        f"    include {site};\n"
        "}\n"
    )
    return conf


def backend_env(data_dir: Path, port: int, schema: str, prefix: str, https_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MUSICREC_")}
    empty_config = data_dir / "musicrec.toml"
    data_dir.mkdir(parents=True, exist_ok=True)
    empty_config.write_text("")
    env.update({
        "MUSICREC_CONFIG_FILE": str(empty_config),  # a developer's config/musicrec.toml stays out
        "MUSICREC_HOST": "127.0.0.1",
        "MUSICREC_PORT": str(port),
        "MUSICREC_DATA_DIR": str(data_dir),
        "MUSICREC_STATIC_DIR": str(data_dir / "no-static"),
        "MUSICREC_DATABASE_URL": DATABASE_URL,
        "MUSICREC_DB_SCHEMA": schema,
        "MUSICREC_REDIS_URL": REDIS_URL,
        "MUSICREC_REDIS_PREFIX": prefix,
        "MUSICREC_SECRET_KEY": SECRET_KEY,
        "MUSICREC_COOKIE_SECURE": "true",
        "MUSICREC_PUBLIC_URL": f"https://localhost:{https_port}",
        "MUSICREC_DEMO_CATALOG": "false",
        "MUSICREC_LOG_LEVEL": "INFO",
        "HF_HUB_OFFLINE": "1",
    })
    return env


def start_edge(root: Path) -> Edge:
    http_port, https_port = free_port(), free_port()
    schema = f"deploy_{secrets.token_hex(4)}"
    prefix = f"test:deploy:{secrets.token_hex(4)}:"
    backends = []
    for i in (1, 2):
        port = free_port()
        backends.append(Backend(f"backend{i}", port,
                                backend_env(root / f"backend{i}", port, schema, prefix, https_port),
                                root / f"backend{i}.log"))
    www = make_site(root)
    cert, key = make_cert(root)
    edge = Edge(root, http_port, https_port, cert, backends, schema, prefix)
    values = {
        "NGINX_HTTP_PORT": f"127.0.0.1:{http_port}",
        "NGINX_HTTPS_PORT": f"127.0.0.1:{https_port}",
        "NGINX_PUBLIC_HTTPS_PORT": str(https_port),
        "NGINX_SSL_CERT": str(cert),
        "NGINX_SSL_KEY": str(key),
        "NGINX_STATIC_ROOT": str(www),
        "NGINX_BACKEND_1": f"127.0.0.1:{backends[0].port}",
        "NGINX_BACKEND_2": f"127.0.0.1:{backends[1].port}",
        "NGINX_UPSTREAM_RESOLVE": "",  # "resolve" needs nginx >= 1.27.3; Debian has 1.22
        "NGINX_RESOLVER": "127.0.0.1",
    }
    conf = nginx_conf(root, values)
    check = subprocess.run(["nginx", "-t", "-c", str(conf), "-p", str(root)],
                           capture_output=True, text=True, timeout=30)
    if check.returncode != 0:
        raise RuntimeError(f"nginx -t failed:\n{check.stderr}")
    try:
        # As the compose file does: the one-shot job migrates, then the replicas start together.
        migrate = subprocess.run([sys.executable, "-m", "cli", "migrate"], cwd=REPO,
                                 env=backends[0].env, capture_output=True, text=True, timeout=60)
        if migrate.returncode != 0:
            raise RuntimeError(f"musicrec migrate failed:\n{migrate.stdout}{migrate.stderr}")
        for backend in backends:
            backend.start()
        edge.nginx = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(root)],
                                      stdout=subprocess.DEVNULL, stderr=(root / "nginx.out").open("wb"))
        wait_port(https_port, edge.nginx, root / "error.log")
        edge.ensure_backends()
    except BaseException:
        stop_edge(edge)
        raise
    return edge


def wait_port(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"nginx exited:\n{tail(log)}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nginx did not listen on {port}:\n{tail(log)}")


def stop_edge(edge: Edge) -> None:
    if edge.nginx is not None and edge.nginx.poll() is None:
        edge.nginx.send_signal(signal.SIGQUIT)
        try:
            edge.nginx.wait(10)
        except subprocess.TimeoutExpired:
            edge.nginx.kill()
            edge.nginx.wait(5)
    for backend in edge.backends:
        backend.stop()
    # In a thread of its own: the caller may be inside pytest-asyncio's running loop.
    cleaner = threading.Thread(target=asyncio.run, args=(_drop(edge.schema, edge.redis_prefix),))
    cleaner.start()
    cleaner.join(30)


async def _drop(schema: str, prefix: str) -> None:
    import asyncpg
    import redis.asyncio as aioredis

    with contextlib.suppress(Exception):
        conn = await asyncpg.connect(DATABASE_URL)
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            await conn.close()
    with contextlib.suppress(Exception):
        client = aioredis.from_url(REDIS_URL)
        async for key in client.scan_iter(match=f"{prefix}*", count=1000):
            await client.delete(key)
        await client.aclose()


def nginx_available() -> bool:
    return shutil.which("nginx") is not None

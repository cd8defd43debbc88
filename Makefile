# Two commands on a fresh machine: `make run` serves the IdP, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PORT

.PHONY: run serve test lint format install bench browser

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

install: $(BIN)/.installed browser

# The browser tests' own needs: Debian's Chromium (apt) and axe-core (npm, pinned in package-lock.json).
browser:
	bash .ci/install-browser

# Development server: SQLite, a generated signing key in var/keys/, demo data loaded.
# The issuer follows PORT (http://127.0.0.1:$PORT) unless IDP_ISSUER is set. The back-channel logout
# worker runs beside it (stopped with it) and POSTs logout tokens to the relying parties.
run: $(BIN)/.installed
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py migrate --noinput
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py idp_load_demo
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py idp_deliver_logouts --interval 1 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	DEBUG=$${DEBUG:-1} $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

# Production-style serving: gunicorn (WEB_CONCURRENCY sync workers, default 2), DEBUG off, static
# files through WhiteNoise, settings from the environment (DATABASE_URL, REDIS_URL, IDP_SIGNING_KEY
# or IDP_SIGNING_KEY_FILE, IDP_ISSUER, SECRET_KEY). On a loopback issuer it loads the demo data too.
# gunicorn.conf.py: access lines carry the request id, and every log line is redacted.
HOST ?= 127.0.0.1
serve: $(BIN)/.installed
	DEBUG=0 $(BIN)/python manage.py migrate --noinput
	DEBUG=0 $(BIN)/python manage.py collectstatic --noinput --verbosity 0
	DEBUG=0 $(BIN)/python manage.py idp_load_demo --if-loopback
	DEBUG=0 $(BIN)/gunicorn project.wsgi --config gunicorn.conf.py --bind $(HOST):$(PORT) \
		--workers $${WEB_CONCURRENCY:-2} --worker-class sync --access-logfile - \
		--forwarded-allow-ips "$${FORWARDED_ALLOW_IPS:-127.0.0.1}"

test: install
	$(BIN)/pytest

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(BIN)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Benchmark (not a test): full flows and single endpoints on the production server, as ratios to a
# bare Django JSON view and a bare DRF view served the same way. BENCH_ARGS="--database postgres".
bench: $(BIN)/.installed
	$(BIN)/python -m bench.run $(BENCH_ARGS)

# linktrack: `make run` for the demo, `make test` for the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test worker beat lint format install migrate seed clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

migrate: $(STAMP)
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo

# The web server, and beside it Celery beat for the periodic jobs (scheduled and recurring campaigns, receipt expiry,
# summaries); in the embedded mode beat runs each job in its own process. Both stop with Ctrl-C.
# The demo runs on this machine: its short links (which the preview's link check opens), and any webhook receiver or
# gateway a developer starts beside it, are at 127.0.0.1, which the private-address guards refuse by default.
run: export DEBUG ?= true
run: export LINK_CHECK_ALLOW_PRIVATE_ADDRESSES ?= true
run: export WEBHOOK_ALLOW_PRIVATE_ADDRESSES ?= true
run: export GATEWAY_ALLOW_PRIVATE_ADDRESSES ?= true
run: seed
	$(BIN)/celery -A linktrack beat --loglevel=WARNING --schedule $(VENV)/beat-schedule & beat=$$!; \
	trap 'kill $$beat 2>/dev/null' EXIT; \
	$(BIN)/python manage.py runserver 127.0.0.1:8000

test: $(STAMP)
	$(BIN)/pytest

worker: $(STAMP)
	$(BIN)/celery -A linktrack worker --loglevel=INFO

beat: $(STAMP)
	$(BIN)/celery -A linktrack beat --loglevel=INFO

# ruff, then the architecture's import rules (import-linter contracts in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-wal db.sqlite3-shm .pytest_cache .ruff_cache

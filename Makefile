# Two entry points (README): `make demo` and `make test`. Each sets up .venv/ from scratch when
# it is missing or requirements.txt changed; nothing else has to be installed by hand.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: demo test test-integration test-soak venv clean

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps -e .
	$(VENV)/bin/pip check
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/xiezuo demo

test: $(STAMP)
	$(VENV)/bin/pytest

# The integration tests once more against a PostgreSQL server (XIEZUO_TEST_DATABASE_URL), but
# those marked `once` (executors, Cosmos, the benchmark, worker processes: the server adds nothing).
test-integration: $(STAMP)
	$(VENV)/bin/pytest -m "integration and not once"

# The soak (issue 6): XIEZUO_SOAK_FILES ledgers (default 1000) dropped in bursts while the
# pipeline runs, then every invariant and the personal-data audit; prints its figures.
test-soak: $(STAMP)
	$(VENV)/bin/pytest -m soak --tb=short tests/soak

clean:
	rm -rf $(VENV) .xiezuo

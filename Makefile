# The two commands of the README: `make demo` and `make test`. Each sets up what it needs.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# A Django requirement to install on top, e.g. DJANGO='Django>=6.0,<6.2' (CI's Django 6 leg).
DJANGO ?=
DEMO_PORT ?= 8000
SIM_PORT ?= 8025
PYTEST_ARGS ?=

.PHONY: demo test test-reliability lint typecheck docs bench clean

$(VENV)/.installed-%: setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[$*]" $(if $(DJANGO),'$(DJANGO)')
	touch $@

# The whole suite, with coverage of the package (at least 90% of lines and branches).
test: $(VENV)/.installed-test
	$(PY) -m coverage run -m pytest $(PYTEST_ARGS)
	$(PY) -m coverage report --fail-under=90

# Crashes, faults, concurrency, hostile input and secrets, with counted results written to
# docs/_reliability_figures.rst. Meant for PostgreSQL: DATABASE_URL=postgres://… (CI sets it).
test-reliability: $(VENV)/.installed-test
	VEESING_RELIABILITY=1 VEESING_RELIABILITY_REPORT=1 $(PY) -m pytest tests/reliability $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed-test
	$(VENV)/bin/mypy django_veesing

docs: $(VENV)/.installed-test
	$(VENV)/bin/sphinx-build -W --keep-going -q -b html docs docs/_build/html
	@echo "Documentation in docs/_build/html/index.html"

# The whole flow offline: SQLite, the simulator on $(SIM_PORT), a sending worker, and the
# admin on $(DEMO_PORT). Ctrl-C stops all three.
demo: export VEESING_APP_ID ?= veesing-demo
demo: export VEESING_APP_KEY ?= veesing-demo-key
demo: export VEESING_API_URL ?= http://127.0.0.1:$(SIM_PORT)
demo: export VEESING_CALLBACK_TOKEN ?= demo-callback-token-change-me
demo: export VEESING_VERIFY_TEMPLATE_ID ?= 36
demo: $(VENV)/.installed-example
	$(PY) manage.py migrate --noinput
	$(PY) example_project/demo_admin.py
	@echo "Open http://127.0.0.1:$(DEMO_PORT)/admin/ — the simulator answers on $(VEESING_API_URL)"
	@echo "Phone login with a verification code: http://127.0.0.1:$(DEMO_PORT)/demo/login/"
	@mkdir -p var && rm -f var/sim.jsonl
	@trap 'kill 0' INT TERM EXIT; \
	$(PY) manage.py veesing_simulator --port $(SIM_PORT) --record-path var/sim.jsonl \
		--callback http://127.0.0.1:$(DEMO_PORT)/veesing/callback/$(VEESING_CALLBACK_TOKEN)/ & \
	$(PY) manage.py veesing_send --loop --interval 2 & \
	$(PY) manage.py runserver --noreload 127.0.0.1:$(DEMO_PORT)

# Each benchmark prints its figures beside a baseline measured in the same run.
# BENCH_ARGS=--quick for a small smoke run; the import and send benchmarks use PostgreSQL
# (a database veesing_bench they create), or --database sqlite.
bench: $(VENV)/.installed-test
	cd benchmarks && ../$(PY) simulator_throughput.py $(BENCH_ARGS)
	cd benchmarks && ../$(PY) bench_import.py $(BENCH_ARGS)
	cd benchmarks && ../$(PY) bench_import.py --database sqlite $(BENCH_ARGS)
	cd benchmarks && ../$(PY) bench_send.py $(BENCH_ARGS)
	cd benchmarks && ../$(PY) bench_send.py --latency 0.05 $(BENCH_ARGS)
	cd benchmarks && ../$(PY) bench_messages.py $(BENCH_ARGS)
	cd benchmarks && ../$(PY) bench_personalised.py $(BENCH_ARGS)
	cd benchmarks && ../$(PY) bench_scaling.py $(BENCH_ARGS)
	cd benchmarks && ../$(PY) bench_admin.py $(BENCH_ARGS)
	cd benchmarks && ../$(PY) bench_callback.py $(BENCH_ARGS)
	cd benchmarks && ../$(PY) bench_contention.py $(BENCH_ARGS)

clean:
	rm -rf .venv .venv-* *.egg-info db.sqlite3 var .pytest_cache .coverage docs/_build docs/_generated test-artifacts

# Obrolan: `make run` serves the app, `make test` runs the whole suite. Both build .venv first.
# The fittest Python here (crm/python_check.py): one at the newest 3.11 security release, else a distribution's
# 3.11 that carries the fixes (Debian's), else any 3.11. `make PYTHON=/path/to/python3.11` chooses another.
PYTHON ?= $(shell python3 crm/python_check.py --pick python3.11 /usr/bin/python3.11 python3 2>/dev/null || \
                  command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
CHROMIUM := /usr/bin/chromium
# Pinned: the venv's own pip and setuptools are whatever the Python came with (setuptools 65 for 3.11.7).
VENV_TOOLS := pip==26.3 setuptools==84.2.1

.PHONY: run test test-dates test-postgres audit venv dev-venv browser postgres-server db lint clean python-check

run: venv db
	$(FLASK) serve

db: venv
	$(FLASK) db upgrade

# Moments that have broken date code before: the 1st of a month and New Year's Eve in the shop's zone, a leap day.
# The suite runs at a fixed mid-month moment (tests/conftest.py); these run the date-sensitive tests again at each.
TEST_MOMENTS := 2026-12-01T00:30:00+07:00 2026-12-31T23:30:00+07:00 2028-02-29T12:00:00+07:00
DATE_SENSITIVE := tests/test_clock.py tests/test_queue.py tests/test_followups.py tests/test_scoring.py \
  tests/test_reports.py tests/test_customers.py tests/test_conversations.py tests/test_trash.py tests/test_audit.py \
  tests/test_exports.py tests/browser/test_queue_journey.py tests/browser/test_report_journey.py \
  tests/test_future_times.py tests/test_customer_since.py tests/test_audit_gaps.py tests/test_wording.py \
  tests/browser/test_shops_week.py \
  tests/test_orders.py tests/test_orders_today.py tests/test_orders_report.py tests/browser/test_orders_journey.py

test: dev-venv browser postgres-server
	$(BIN)/ruff check crm tests bench app.py
	$(BIN)/bandit --quiet --recursive crm --severity-level high
	$(BIN)/python -m pytest
	$(MAKE) --no-print-directory test-dates
	$(MAKE) --no-print-directory test-postgres

# The whole suite again on PostgreSQL: a throwaway cluster in a temporary folder, stopped afterwards
# (tests/throwaway_postgres.py); tests marked sqlite_only are left out. ARGS="tests/test_search.py -x" for part.
test-postgres: dev-venv browser postgres-server
	@echo "== tests on PostgreSQL"
	$(BIN)/python tests/throwaway_postgres.py -- $(BIN)/python -m pytest $(ARGS)

# ALL=1 runs the whole suite at each moment instead of the date-sensitive part.
test-dates: dev-venv browser
	@for moment in $(TEST_MOMENTS); do \
	  echo "== tests on a clock set to $$moment"; \
	  OBROLAN_TEST_NOW=$$moment $(BIN)/python -m pytest $(if $(ALL),,$(DATE_SENSITIVE)) || exit 1; \
	done

# Needs a vulnerability database (PyPI's JSON API or OSV) on the network; see README.
audit: venv
	$(BIN)/python -m pip install --quiet pip-audit==2.10.1
	$(BIN)/pip-audit --strict --requirement requirements.txt

venv: python-check $(VENV)/.installed
dev-venv: python-check $(VENV)/.installed-dev

# Refuses a Python older than 3.11 and says what an older 3.11 lacks, for the one that makes the venv and the
# venv's own (made earlier, perhaps by another Python).
python-check:
	@$(PYTHON) crm/python_check.py
	@if [ -x $(BIN)/python ] && [ "$$($(BIN)/python -c 'import sys; print(sys.version)')" != "$$($(PYTHON) -c 'import sys; print(sys.version)')" ]; then \
	  echo "Note: .venv was made with another Python; \`make clean\` and make it again to use $(PYTHON)." >&2; \
	  $(BIN)/python crm/python_check.py; fi

$(VENV)/.installed: requirements.txt Makefile | python-check
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet $(VENV_TOOLS)
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt requirements-postgres.txt $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

# The browser tests drive Debian's Chromium (Playwright's own browser download does not work offline).
browser:
	@test -x $(CHROMIUM) || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium fonts-noto-color-emoji; }

# The PostgreSQL server for test-postgres (Debian's package: initdb, pg_ctl, unaccent and pg_trgm included).
postgres-server:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends postgresql; }

lint: dev-venv
	$(BIN)/ruff check crm tests bench app.py

clean:
	rm -rf $(VENV) .pytest_cache

# Obrolan: `make run` serves the app, `make test` runs the whole suite. Both build .venv first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
CHROMIUM := /usr/bin/chromium

.PHONY: run test audit venv dev-venv browser db lint clean

run: venv db
	$(FLASK) serve

db: venv
	$(FLASK) db upgrade

test: dev-venv browser
	$(BIN)/bandit --quiet --recursive crm --severity-level high
	$(BIN)/python -m pytest

# Needs a vulnerability database (PyPI's JSON API or OSV) on the network; see README.
audit: venv
	$(BIN)/python -m pip install --quiet pip-audit==2.10.1
	$(BIN)/pip-audit --strict --requirement requirements.txt

venv: $(VENV)/.installed
dev-venv: $(VENV)/.installed-dev

$(VENV)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

# The browser tests drive Debian's Chromium (Playwright's own browser download does not work offline).
browser:
	@test -x $(CHROMIUM) || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium fonts-noto-color-emoji; }

lint: dev-venv
	$(BIN)/ruff check crm tests bench app.py

clean:
	rm -rf $(VENV) .pytest_cache

# `make run` serves on http://127.0.0.1:8000 with the embedded SQLite database under var/;
# `make test` runs the whole suite (PostgreSQL too when MAILBOX_TEST_POSTGRES_URL is set).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format messages clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is needed (Debian 12 has it: apt-get install python3)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) 2>/dev/null || { \
		rm -rf $(VENV); \
		if [ "$$(id -u)" = 0 ]; then apt-get install -y -qq python3-venv >/dev/null; \
		else echo "Please install python3-venv first: sudo apt-get install python3-venv"; exit 1; fi; \
		$(PYTHON) -m venv $(VENV); }
	$(BIN)/pip install --quiet --upgrade pip
	$(PYTHON) deploy/requirements.py dev > $(VENV)/requirements.txt
	$(BIN)/pip install --quiet -r $(VENV)/requirements.txt
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m mailbox migrate
	$(BIN)/python -m mailbox serve

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Re-extract the strings and merge them into both catalogs (then translate mailbox/locale/zh_CN).
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _ -k gettext -k ngettext:1,2 -k N_ -o mailbox/locale/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i mailbox/locale/messages.pot -d mailbox/locale --no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

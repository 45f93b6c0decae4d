# sessionmd: the two commands a fresh machine needs are `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest bench schemas readme clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## Set up and compile the shipped example plan, printing the result.
demo: $(STAMP)
	$(BIN)/sessionmd estimate plans/SESSION_3_PLAN.md
	@echo
	@sed -n '1,400p' plans/SESSION_3_PLAN.md

## Set up, then ruff, mypy on sessionmd/, and pytest.
test: $(STAMP) lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check sessionmd tests bench docs
	$(BIN)/ruff format --check sessionmd tests bench docs

typecheck: $(STAMP)
	$(BIN)/mypy sessionmd

pytest: $(STAMP)
	$(BIN)/pytest

## Benchmarks, run on demand (not part of make test).
bench: $(STAMP)
	$(BIN)/python bench/run.py

## Regenerate schemas/*.json from the pydantic models.
schemas: $(STAMP)
	$(BIN)/python -m sessionmd.schemas schemas

## Rebuild README.md from docs/readme/*.md (the tests fail when they disagree).
readme:
	$(PYTHON) docs/build_readme.py

clean:
	rm -rf $(VENV) build *.egg-info

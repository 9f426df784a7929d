# Two commands on a fresh machine with Python 3.11 and make: `make run` and `make test`.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
REF := facility_specs/reference-100mw-gb300.yaml
PORT ?= 8501
# Loopback only: the app has no login. `make run HOST=0.0.0.0` shares it on the network (see README).
HOST ?= 127.0.0.1

.PHONY: run test bench app lint clean browser

$(STAMP): pyproject.toml
	@command -v $(PY) >/dev/null 2>&1 || { echo "need $(PY) on PATH"; exit 1; }
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

# Chromium for the browser tests comes from Debian; Playwright never downloads its own.
browser:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi; }

# The main job: check the examples, then open the what-if app on the reference facility.
run: $(STAMP)
	$(BIN)/aift validate facility_specs/*.yaml
	@echo "Opening the app on $(REF): http://$(HOST):$(PORT)"
	$(BIN)/streamlit run app.py --server.headless true --server.address $(HOST) --server.port $(PORT) --server.maxUploadSize 5 --browser.gatherUsageStats false --client.toolbarMode viewer -- $(REF)

test: $(STAMP) browser
	$(BIN)/pytest -q -n 2

bench: $(STAMP)
	$(BIN)/python -m benchmarks

app: run

lint: $(STAMP)
	$(BIN)/ruff check twin optimizer tests app.py

clean:
	rm -rf $(VENV) .pytest_cache

# The two commands a new user needs: `make up` runs the system, `make test` runs the suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: up test lint install browser bench bench-write rebuild replay replay-projection clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[local,dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

install: $(STAMP)

up: $(STAMP)
	$(PY) -m infra.stack up

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

# e2e tests drive Debian's headless Chromium (Swagger UI, the admin's styling); as root,
# install it when it is missing. Otherwise those tests fail and say what is missing.
CHROMIUM ?= /usr/bin/chromium
browser:
	@test -x $(CHROMIUM) || [ "$$(id -u)" -ne 0 ] || { apt-get update -qq \
		&& DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@test -x $(CHROMIUM) || echo "make test: $(CHROMIUM) is missing (apt-get install chromium)" >&2

# pytest's exit 5 means no test ran: that is a failure, not a pass.
test: lint browser
	@$(PY) -m infra.stack run -- $(PY) -m pytest $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: no tests ran" >&2; exit 1; fi; exit $$status

# Benchmarks measure the stack `make up` is running (see bench/README.md).
bench: $(STAMP)
	$(PY) bench/lag.py $(BENCH_ARGS)

# The write-path benchmark starts its own stack(s): `make bench-write BENCH_ARGS="--old ../old"`.
bench-write: $(STAMP)
	$(PY) bench/write.py $(BENCH_ARGS)

# Operator commands against the stack `make up` is running (its servers are in .local/stack.env).
STACK_ENV := set -a; . ./.local/stack.env; set +a;

rebuild: $(STAMP)
	$(STACK_ENV) $(PY) manage.py rebuild_search_index

# Re-publish the whole log and follow the running relay up to the head (exit 1 if it stalls).
replay: $(STAMP)
	$(STACK_ENV) $(PY) manage.py reset_relay

# Rebuild one projector's read model from the event store and switch it in: NAME=shopping.
replay-projection: $(STAMP)
	@test -n "$(NAME)" || { echo "usage: make replay-projection NAME=catalog|shopping|audit" >&2; exit 2; }
	$(STACK_ENV) $(PY) manage.py replay_projection $(NAME) $(REPLAY_ARGS)

clean:
	rm -rf $(VENV) .local

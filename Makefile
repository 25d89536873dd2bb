# The two commands of the README, and a few more for developers.
# Each target bootstraps what it needs: .venv, the packages, Mailpit (built once
# into ~/.cache/smlite/), and for the tests Debian's Chromium, Dovecot and Postfix.

VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test check selfcheck bench load hardening soak sandbox lock clean mutation

run:            ## the main job: sandbox up, suite against the reference gateway, report in reports/latest/
	@./scripts/bootstrap
	@$(VENV)/bin/smlite run $(ARGS)

test:           ## the project's own tests: lint, format, types and layering, then pytest (unit, sandbox, conformance run, broken variants, browser, IMAP)
	@./scripts/bootstrap --browser --imap
	@$(MAKE) --no-print-directory check
	@$(PY) -m pytest $(ARGS)

check:          ## static checks (pyproject.toml): ruff lint and format, mypy, the import layering of docs/architecture.md
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/mypy
	@$(VENV)/bin/lint-imports --no-cache

selfcheck:      ## the suite against every broken variant of the reference gateway: the kill rate
	@./scripts/bootstrap
	@$(VENV)/bin/smlite selfcheck

bench:          ## speed and scale: suite vs the mail floor, latency, throughput, -n 2, cold start (docs/bench.md)
	@./scripts/bootstrap
	@$(PY) -m bench $(ARGS)

load:           ## a bounded load of secure messages against the embedded sandbox (docs/load.md)
	@./scripts/bootstrap
	@$(PY) -m harness.load $(ARGS)

hardening:      ## bad input, faults and intruders against the sandbox, counted in a table (docs/hardening.md)
	@./scripts/bootstrap --browser
	@$(PY) -m tools.hardening $(ARGS)

soak:           ## the sandbox under hostile load while `smlite run` proceeds: RSS, disk, descriptors, AUTH rate, verdict (docs/hardening.md; minutes, not in make test)
	@./scripts/bootstrap
	@$(PY) -m tools.hardening.soak $(ARGS)

sandbox:        ## Mailpit + reference gateway until Ctrl-C
	@./scripts/bootstrap
	@$(VENV)/bin/smlite sandbox up

lock:           ## refresh requirements.lock (pinned, hashed; Python 3.11) from pyproject.toml, after changing dependencies
	@./scripts/bootstrap
	@$(VENV)/bin/uv pip compile pyproject.toml --extra dev --extra load --extra independent --generate-hashes --universal \
	    --python-version 3.11 -o requirements.lock --quiet
	@$(VENV)/bin/uv pip compile pyproject.toml --extra mutation --generate-hashes --universal --python-version 3.11 \
	    -c requirements.lock -o requirements-mutation.lock --quiet

clean:
	rm -rf $(VENV) reports/2* reports/latest mutants

mutation:       ## mutation score of the gateway's policy, composition and store: mutmut on tests/gateway's unit tests, fails below 90 % (docs/mutation.md)
	@./scripts/bootstrap
	@$(PY) -m pip install --quiet --require-hashes -r requirements-mutation.lock
	@bash -c "set -o pipefail; nice -n 10 $(VENV)/bin/mutmut run --max-children 2 $(ARGS) 2>&1 \
	    | tr '\r' '\n' | grep -v -e '^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]' -e '^ *$$'"
	@$(PY) scripts/mutation-score

# The two commands of the README, and a few more for developers.
# Each target bootstraps what it needs: .venv, the packages, Mailpit (built once
# into ~/.cache/smlite/), and for the tests Debian's Chromium.

VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test selfcheck bench load hardening sandbox clean mutation lock

run:            ## the main job: sandbox up, suite against the reference gateway, report in reports/latest/
	@./scripts/bootstrap
	@$(VENV)/bin/smlite run $(ARGS)

test:           ## the project's own tests (unit, sandbox, conformance run, broken variants, browser)
	@./scripts/bootstrap --browser
	@$(PY) -m pytest $(ARGS)

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
	@$(PY) -m tests.hardening $(ARGS)

sandbox:        ## Mailpit + reference gateway until Ctrl-C
	@./scripts/bootstrap
	@$(VENV)/bin/smlite sandbox up

clean:
	rm -rf $(VENV) reports/2* reports/latest

mutation:       ## mutation testing of the reference gateway's policy and composition (mutmut; not in CI; docs/mutation.md)
	@./scripts/bootstrap
	@$(VENV)/bin/python -m pip install --quiet 'mutmut==2.5.1'
	@$(VENV)/bin/mutmut run --paths-to-mutate harness/gateway/policy.py,harness/gateway/composer.py \
		--runner scripts/mutation-runner --no-progress $(ARGS) || true
	@$(VENV)/bin/mutmut results

# The two commands of the README, and a few more for developers.
# Each target bootstraps what it needs: .venv, the packages, Mailpit (built once
# into ~/.cache/smlite/), and for the tests Debian's Chromium.

VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test selfcheck bench hardening sandbox clean

run:            ## the main job: sandbox up, suite against the reference gateway, report in reports/latest/
	@./scripts/bootstrap
	@$(VENV)/bin/smlite run $(ARGS)

test:           ## the project's own tests (unit, sandbox, conformance run, broken variants, browser)
	@./scripts/bootstrap --browser
	@$(PY) -m pytest $(ARGS)

selfcheck:      ## the suite against every broken variant of the reference gateway: the kill rate
	@./scripts/bootstrap
	@$(VENV)/bin/smlite selfcheck

sandbox:        ## Mailpit + reference gateway until Ctrl-C
	@./scripts/bootstrap
	@$(VENV)/bin/smlite sandbox up

clean:
	rm -rf $(VENV) reports/2* reports/latest

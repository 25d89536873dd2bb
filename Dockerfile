# The reference gateway as a container; docker-compose.yml runs it next to Mailpit.
# Config: docker/gateway.toml (relay_host = mailpit). No Docker engine is needed
# for the test suite; tests/test_compose.py checks this file's structure.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
# README.md* : the glob lets the build work before the README exists
COPY pyproject.toml README.md* ./
COPY harness ./harness
COPY steps ./steps
RUN pip install . \
    && useradd --system --home-dir /var/lib/smlite smlite \
    && mkdir -p /var/lib/smlite \
    && chown smlite /var/lib/smlite

COPY docker/gateway.toml /etc/smlite/gateway.toml
USER smlite
WORKDIR /var/lib/smlite
EXPOSE 2525 8000

HEALTHCHECK --interval=5s --timeout=3s --start-period=5s --retries=10 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"]

CMD ["python", "-m", "harness.gateway", "--config", "/etc/smlite/gateway.toml"]

# Concierge: the web app (and the `concierge` CLI) in one image. docker-compose.yml runs it with
# PostgreSQL, Redis and a Chroma server; tests/unit/test_deployment.py checks the two agree.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# torch first, from the CPU-only index (the default wheel drags in gigabytes of CUDA); the pin
# is pyproject's, so `pip install .` below finds it satisfied. A layer of its own, so code
# changes do not download it again.
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0

WORKDIR /src
# everything .dockerignore lets through: pyproject.toml, README.md and the packages
COPY . .
RUN pip install . && rm -rf /src

# Run as an unprivileged user; var/ (trained intent model, generated key, embedded stores) is
# the only place the app writes, and compose mounts a volume there.
RUN useradd --create-home --uid 10001 concierge \
    && mkdir -p /app/var \
    && chown -R concierge:concierge /app
WORKDIR /app
USER concierge

ENV CONCIERGE_VAR_DIR=/app/var \
    CONCIERGE_HOST=0.0.0.0 \
    CONCIERGE_PORT=8000

EXPOSE 8000

HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('CONCIERGE_PORT', '8000') + '/health', timeout=4)"

CMD ["concierge", "serve", "--host", "0.0.0.0", "--port", "8000"]

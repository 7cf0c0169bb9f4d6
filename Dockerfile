# shipbot in a container: `docker compose up -d` (see README.md, "Running in production").
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# Installed from the lock: the versions the tests passed with.
COPY pyproject.toml constraints.txt README.md LICENSE ./
COPY bot ./bot
COPY handlers ./handlers
COPY blocks ./blocks
RUN pip install -c constraints.txt . \
    && useradd --create-home --uid 10001 shipbot \
    && mkdir /data \
    && chown shipbot /data

# The database (and its WAL) on a volume, written by a user that is not root.
USER 10001
ENV SHIPBOT_DB=/data/shipbot.db
VOLUME ["/data"]
EXPOSE 3000

# /healthz answers while the process serves (HTTP mode, the default command here).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=4)"]

# SIGTERM is a graceful stop: no new work, carrier calls in flight finish (SHIPBOT_STOP_GRACE).
STOPSIGNAL SIGTERM
ENTRYPOINT ["shipbot"]
CMD ["serve", "--http", "--host", "0.0.0.0", "--port", "3000"]

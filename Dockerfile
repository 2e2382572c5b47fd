# hotline: the API on SQLite by default (a volume at /data); set HOTLINE_DATABASE_URL for PostgreSQL.
#   docker build -t hotline .
#   docker run -p 8000:8000 -v hotline-data:/data -e HOTLINE_BOOTSTRAP_ADMIN_KEY=... hotline
# The entrypoint migrates and seeds (both idempotent), then runs the command: uvicorn by default,
# or e.g. `python -m app.workers` for the periodic jobs in a container of their own.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system --gid 10001 hotline \
    && useradd --system --uid 10001 --gid hotline --no-create-home --shell /usr/sbin/nologin hotline \
    && mkdir -p /data \
    && chown hotline:hotline /data

WORKDIR /srv/hotline

# Dependencies in a layer of their own: it is rebuilt only when pyproject.toml changes.
COPY pyproject.toml ./
RUN mkdir app && touch app/__init__.py README.md \
    && pip install . \
    && pip uninstall --yes hotline \
    && rm -rf app README.md build ./*.egg-info

# The package itself (no dev dependencies), plus what runs beside it: migrations, seeds, alembic.ini.
COPY README.md alembic.ini ./
COPY app/ app/
RUN pip install --no-deps . && rm -rf build ./*.egg-info
COPY seeds/ seeds/
COPY deploy/docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
RUN chmod 0755 /usr/local/bin/docker-entrypoint.sh

ENV HOTLINE_DATABASE_URL=sqlite+aiosqlite:////data/hotline.db \
    HOTLINE_SEED_DIR=/srv/hotline/seeds/sumy

USER hotline
VOLUME ["/data"]
EXPOSE 8000

# No curl in the slim image: the standard library asks /healthz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["uvicorn", "app.main:create_app", "--factory", "--host", "0.0.0.0", "--port", "8000"]

#!/bin/sh
# Container start: bring the schema up to date, load the seeds (idempotent), then become the command
# (uvicorn by default) with exec, so SIGTERM from the orchestrator reaches it directly.
set -eu

cd /srv/hotline
alembic upgrade heads
python -m app.seed

if [ "$#" -eq 0 ]; then
    set -- uvicorn app.main:create_app --factory --host 0.0.0.0 --port 8000
fi
exec "$@"

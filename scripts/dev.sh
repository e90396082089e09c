#!/usr/bin/env bash
# Starts a Celery worker and the Django development server together; Ctrl-C stops both.
set -u
PY=${PY:-.venv/bin/python}
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
mkdir -p .var/log
# Absolute links (certificates, QR codes, share previews) must point where this server really answers.
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-config.settings.dev}
export SITE_URL=${SITE_URL:-http://$HOST:$PORT}

# One worker consumes both the default queue and the experiments queue ("gpu"); concurrency 1 so two
# benchmarks never share a device. On a CUDA machine it runs experiments on the GPU. -B embeds celery beat,
# which fails experiment runs nobody finished by their deadline (the run API also checks on read).
"$PY" -m celery -A config worker -Q celery,gpu -c 1 -n "academy@%h" -B -s .var/celerybeat-schedule \
  --loglevel INFO >.var/log/worker.log 2>&1 &
WORKER=$!
"$PY" manage.py runserver "$HOST:$PORT" &
WEB=$!

stop() {
  trap - INT TERM EXIT
  echo; echo "Stopping web server and worker ..."
  kill -TERM "$WEB" "$WORKER" 2>/dev/null
  wait "$WEB" "$WORKER" 2>/dev/null
  echo "Stopped."
}
trap stop INT TERM EXIT

sleep 2
echo
echo "  Transformers Academy is running at  http://$HOST:$PORT/"
echo "  Worker log: .var/log/worker.log   Health (database, broker, workers): http://$HOST:$PORT/healthz"
echo "  Press Ctrl-C to stop both."
echo
wait -n "$WEB" "$WORKER"

"""gunicorn's settings for production (Dockerfile, docker-compose.yml) and the bench (perf/common.py).

Threaded workers (gthread): an idle keep-alive connection, such as a lesson panel polling a run's progress
once a second, waits in the worker's poller instead of holding a whole worker the way a sync worker does. With
sync workers and no buffering proxy in front, 200 readers following a run cut the lesson page's throughput by
96 % in `make bench` (docs/performance.md); with gthread they cost what their requests cost.
Command-line flags override anything here.
"""
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Processes: about 1-2 per core (the GIL allows one running thread per process); threads overlap the
# waits on PostgreSQL and Redis within each.
workers = int(os.environ.get("WEB_WORKERS", "4"))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "4"))
keepalive = 5
# One listening socket per worker process (SO_REUSEPORT): the kernel spreads new connections evenly. With one
# shared socket, the first process to wake took most of a burst of new keep-alive connections and kept them,
# leaving the others idle (the bench once measured Django's minimal view at 626 req/s on 1.08 of 2 cores).
# Caveat: connections still waiting in a worker's own queue when that worker dies are reset.
reuse_port = True
timeout = 30
graceful_timeout = 30
# Every request is already logged as one JSON line by core.middleware.RequestLogMiddleware.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
# Behind a TLS-terminating proxy on the same host or network, trust its X-Forwarded-* headers.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

"""The shared library every app may use: caches and the page cache, middleware, health, throttles, task logs.

``config/`` is only the composition root (settings, URLs, the Celery and WSGI applications); what the apps
import lives here.
"""

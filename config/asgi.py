import os

from django.core.asgi import get_asgi_application

# Production unless told otherwise: `make run` and `make test` name their settings explicitly.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.prod")
application = get_asgi_application()

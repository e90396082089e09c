# Transformers Academy: one image for web, worker and beat.
# Build args pick the torch build: CPU by default, CUDA for the gpu-worker image.
FROM python:3.11-slim AS base
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=config.settings.prod TA_VAR_DIR=/app/var

# Fonts for certificate names in any script, and the OpenType MATH font (STIX, OFL) lesson formulas use.
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core fonts-wqy-zenhei fonts-stix \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
# Same requirements file as `make`; torch comes from the index that matches the target device.
RUN pip install --extra-index-url "$TORCH_INDEX_URL" -r requirements.txt

COPY . .
# Build-time collectstatic with throwaway values: prod settings refuse to start without them.
RUN SECRET_KEY=build ALLOWED_HOSTS=build DATABASE_URL=sqlite:////tmp/build.db CELERY_BROKER_URL=redis://build \
    SITE_URL=http://build python manage.py collectstatic --no-input -v 0

RUN useradd --create-home --uid 10001 academy && mkdir -p /app/var && chown -R academy /app/var
USER academy
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "-c", "config/gunicorn.conf.py"]

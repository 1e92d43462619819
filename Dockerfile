# One image for every shopstream process (write API, read API, relay, projector,
# Celery worker and beat); docker-compose.yml picks the process with `command`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app

RUN groupadd --system --gid 10001 shopstream \
    && useradd --system --uid 10001 --gid shopstream --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin shopstream

WORKDIR /app

# Dependencies first, from pyproject.toml alone, so a code change does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The project itself (runtime dependencies only: no `local` or `dev` extras).
COPY . .
RUN pip install . \
    && rm -rf build ./*.egg-info

# Static files (admin CSS, Swagger UI) into the image; WhiteNoise serves them from gunicorn.
# Settings need their secrets to load: throwaway values, used for nothing but this step.
RUN SHOPSTREAM_ENV=production DJANGO_SETTINGS_MODULE=infra.settings.write_api \
        DJANGO_SECRET_KEY=collectstatic-only PAYMENT_WEBHOOK_SECRET=collectstatic-only \
        python manage.py collectstatic --noinput --verbosity 0

USER shopstream

EXPOSE 8000 8001

CMD ["gunicorn", "infra.wsgi.write_api:application", "--bind", "0.0.0.0:8000", \
     "--config", "python:infra.gunicorn_hooks", \
     "--worker-class", "gthread", "--workers", "2", "--threads", "4", \
     "--limit-request-line", "8190"]

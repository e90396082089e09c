"""The deployment as data: docker-compose.yml, .env.example and the production settings agree."""
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
# Where environment variables are read: the settings and gunicorn's configuration.
SETTINGS_SOURCE = "\n".join(
    p.read_text() for p in [*(REPO / "config" / "settings").glob("*.py"), REPO / "config" / "gunicorn.conf.py"]
)
PROD_ENV = {
    "SECRET_KEY": secrets.token_urlsafe(60),
    "ALLOWED_HOSTS": "academy.example.org",
    "DATABASE_URL": "sqlite:////tmp/academy-deploy-check.db",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "SITE_URL": "https://academy.example.org",
    "CERTIFICATE_SIGNING_KEY_PATH": "/tmp/academy-deploy-check-key.json",
}


def manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=120)


def test_compose_describes_every_service_with_a_healthcheck():
    services = COMPOSE["services"]
    assert {"web", "worker", "gpu-worker", "beat", "redis", "postgres"} <= set(services)
    for name, service in services.items():
        assert "healthcheck" in service, f"{name} has no healthcheck"
    assert "pgdata" in COMPOSE["volumes"]


def test_gpu_worker_reserves_an_nvidia_device_and_consumes_only_the_gpu_queue_one_at_a_time():
    gpu = COMPOSE["services"]["gpu-worker"]
    devices = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["driver"] == "nvidia"
    assert "-Q gpu" in gpu["command"] and "-c 1" in gpu["command"]


def test_every_variable_in_env_example_and_compose_is_read_by_the_settings():
    example = (REPO / ".env.example").read_text()
    names = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, flags=re.M))
    for service in COMPOSE["services"].values():
        names |= set((service.get("environment") or {}).keys())
    compose_only = {"POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD", "DJANGO_SETTINGS_MODULE"}
    for name in sorted(names - compose_only):
        assert f'"{name}"' in SETTINGS_SOURCE, f"{name} is documented but no setting reads it"


def test_web_runs_threaded_gunicorn_workers_from_one_config_file_in_the_image_compose_and_the_bench():
    """Sync workers are held by idle keep-alive connections (progress polling): see config/gunicorn.conf.py."""
    config: dict = {}
    exec((REPO / "config" / "gunicorn.conf.py").read_text(), config)  # noqa: S102 - our own file
    assert config["worker_class"] == "gthread" and config["threads"] >= 2
    assert config["reuse_port"] is True  # one socket per process: new connections are spread evenly
    assert "-c config/gunicorn.conf.py" in COMPOSE["services"]["web"]["command"]
    assert '"-c", "config/gunicorn.conf.py"' in (REPO / "Dockerfile").read_text()
    assert "config/gunicorn.conf.py" in (REPO / "perf" / "common.py").read_text()


def test_dockerfile_runs_the_same_commands_as_make():
    dockerfile = (REPO / "Dockerfile").read_text()
    makefile = (REPO / "Makefile").read_text()
    assert "-r requirements.txt" in dockerfile and "-r requirements-dev.txt" in makefile
    dev = (REPO / "requirements-dev.txt").read_text()
    assert "-r requirements.txt" in dev  # development installs everything production does, and its tools
    runtime = (REPO / "requirements.txt").read_text()
    for tool in ("pytest", "playwright", "ruff", "hypothesis"):
        assert tool not in runtime.lower(), f"{tool} would be installed into the production image"
    assert "USER academy" in dockerfile
    assert "collectstatic" in dockerfile
    assert "load_course content/transformers-architecture" in COMPOSE["services"]["web"]["command"]
    assert "migrate" in COMPOSE["services"]["web"]["command"]


def test_production_settings_refuse_to_start_without_their_variables():
    env = {k: v for k, v in os.environ.items() if k not in PROD_ENV}
    result = manage("check", env={**env, "DJANGO_SETTINGS_MODULE": "config.settings.prod"})
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr and "SITE_URL" in result.stderr


def test_production_settings_refuse_to_start_without_a_persistent_signing_key():
    env = {k: v for k, v in {**os.environ, **PROD_ENV}.items() if not k.startswith("CERTIFICATE_SIGNING_KEY")}
    result = manage("check", env={**env, "DJANGO_SETTINGS_MODULE": "config.settings.prod"})
    assert result.returncode != 0
    assert "CERTIFICATE_SIGNING_KEY" in result.stderr


def test_production_settings_pass_the_deploy_checklist():
    env = {**os.environ, **PROD_ENV, "DJANGO_SETTINGS_MODULE": "config.settings.prod"}
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_the_example_secret_key():
    example_key = re.search(r"^SECRET_KEY=(.+)$", (REPO / ".env.example").read_text(), re.M).group(1)
    env = {**os.environ, **PROD_ENV, "SECRET_KEY": example_key, "DJANGO_SETTINGS_MODULE": "config.settings.prod"}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY is the placeholder" in result.stderr


def test_entry_points_default_to_production_settings_outside_make():
    env = {k: v for k, v in os.environ.items() if k not in PROD_ENV and k != "DJANGO_SETTINGS_MODULE"}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "Production settings need these environment variables" in result.stderr
    for entry_point in ("config/wsgi.py", "config/asgi.py", "config/celery.py", "manage.py"):
        source = (REPO / entry_point).read_text()
        assert 'setdefault("DJANGO_SETTINGS_MODULE", "config.settings.prod")' in source, entry_point
    assert "DJANGO_SETTINGS_MODULE=config.settings.dev" in (REPO / "Makefile").read_text()


def test_passwords_need_at_least_twelve_characters(db):
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    try:
        validate_password("Zq8#mVt2!pL")  # 11 characters, otherwise strong
    except ValidationError as error:
        assert "at least 12 characters" in " ".join(error.messages)
    else:
        raise AssertionError("an 11-character password was accepted")
    validate_password("Zq8#mVt2!pLw")

"""The real services: PostgreSQL for migrations and the loader, a real Celery worker on Redis and on the
embedded file-system broker. In CI a missing service fails these tests instead of skipping them."""
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from celery import Celery

from tests.support.paths import REPO


def run_manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.mark.postgres
def test_migrations_and_course_loader_work_on_postgresql(postgres_url, tmp_path):
    name = f"academy_it_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        database_url = postgres_url.rsplit("/", 1)[0] + f"/{name}"
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.base", "DATABASE_URL": database_url,
               "TA_VAR_DIR": str(tmp_path)}
        migrate = run_manage("migrate", "--no-input", env=env)
        assert migrate.returncode == 0, migrate.stderr
        first = run_manage("load_course", "content/transformers-architecture", env=env)
        assert first.returncode == 0, first.stderr
        assert "created:" in first.stdout
        second = run_manage("load_course", "content/transformers-architecture", env=env)
        assert "nothing to change" in second.stdout
        with psycopg.connect(database_url) as conn:
            modules = conn.execute("SELECT count(*) FROM lessons_module WHERE published").fetchone()[0]
            questions = conn.execute("SELECT count(*) FROM quizzes_question").fetchone()[0]
        assert modules == 7
        from lessons.services import read_course_dir

        _, sources = read_course_dir(REPO / "content" / "transformers-architecture")
        assert questions == sum(len(source.quiz["questions"]) for source in sources) >= 70  # banks of 10+
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start_worker(env: dict, log_path: Path) -> subprocess.Popen:
    log = log_path.open("w")
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "celery", "-c", "1",
         "-n", f"it-{uuid.uuid4().hex[:6]}@%h", "--without-gossip", "--without-mingle", "--loglevel", "INFO"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.mark.redis
def test_a_real_worker_on_redis_runs_a_task(redis_url, tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.base", "CELERY_BROKER_URL": redis_url,
           "CELERY_RESULT_BACKEND": redis_url, "TA_VAR_DIR": str(tmp_path)}
    worker = start_worker(env, tmp_path / "worker.log")
    client = Celery(broker=redis_url, backend=redis_url, set_as_current=False)  # never the site app
    try:
        result = client.send_task("config.ping", queue="celery")
        assert result.get(timeout=60) == "pong", (tmp_path / "worker.log").read_text()
    finally:
        stop(worker)


def test_a_real_worker_on_the_embedded_filesystem_broker_runs_a_task(tmp_path):
    """What `make run` starts with no configuration at all."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.base", "TA_VAR_DIR": str(tmp_path)}
    env.pop("CELERY_BROKER_URL", None)
    env.pop("CELERY_RESULT_BACKEND", None)
    worker = start_worker(env, tmp_path / "worker.log")
    data = tmp_path / "celery"
    client = Celery(broker="filesystem://", backend=f"file://{data / 'results'}", set_as_current=False)
    client.conf.broker_transport_options = {
        "data_folder_in": str(data / "queue"), "data_folder_out": str(data / "queue"),
        "control_folder": str(data / "control"), "processed_folder": str(data / "processed"),
        "store_processed": False,
    }
    try:
        deadline = time.monotonic() + 30
        while not (data / "queue").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        result = client.send_task("config.ping", queue="celery")
        assert result.get(timeout=60, interval=0.1) == "pong", (tmp_path / "worker.log").read_text()
    finally:
        stop(worker)

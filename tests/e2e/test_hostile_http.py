"""Hostile input against the production setup: gunicorn, DEBUG off, PostgreSQL; no 5xx, JSON errors."""

from __future__ import annotations

import os

import pytest

from idp.keys import generate_private_key_pem

from . import hostile_http
from .live_server import _HOSTILE_ENV, _free_port, fresh_postgres_database, serving_with_gunicorn

pytestmark = pytest.mark.e2e


def test_every_hostile_parameter_gets_a_standard_answer_from_gunicorn_on_postgresql(tmp_path):
    key = tmp_path / "signing.pem"
    key.write_text(generate_private_key_pem())
    port = _free_port()
    with fresh_postgres_database() as database:
        env = {k: v for k, v in os.environ.items() if k not in _HOSTILE_ENV}
        env.update(
            DJANGO_SETTINGS_MODULE="project.settings",
            DATABASE_URL=database,
            IDP_ISSUER=f"http://127.0.0.1:{port}",
            IDP_SIGNING_KEY_FILE=str(key),
            DEBUG="0",
            PYTHONUNBUFFERED="1",
        )
        log = tmp_path / "server.log"
        with serving_with_gunicorn(env, [port], log) as (base_url,):
            report = hostile_http.run(base_url)
    assert report.total > 1000
    assert report.problems == [], "\n".join(report.problems[:30]) + "\n" + log.read_text()[-3000:]

"""A kept PostgreSQL connection is checked without a round trip, and one the server ended is replaced."""

import time

import psycopg
import pytest
from django.db import connection

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL backend's health check"),
]


@pytest.fixture
def select_one_checks(monkeypatch):
    """Each time Django's own check (``SELECT 1``) runs, and what it found."""
    calls, is_usable = [], connection.is_usable

    def counted():
        calls.append(is_usable())
        return calls[-1]

    monkeypatch.setattr(connection, "is_usable", counted)
    return calls


def next_request():
    connection.health_check_done = False  # what Django's request_started does for a kept connection
    connection.close_if_health_check_failed()  # what Django does before the request's first query


def end_session_from_outside(pid: int) -> None:
    params = connection.get_connection_params()
    admin = {key: params[key] for key in ("dbname", "user", "host", "port") if key in params}
    with psycopg.connect(**admin, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    time.sleep(0.2)  # the server's goodbye reaches the socket


def test_the_backend_is_ours_with_health_checks_on():
    assert connection.settings_dict["ENGINE"] == "project.postgresql"
    assert connection.health_check_enabled


def test_a_live_connection_is_kept_without_a_select_1(select_one_checks):
    connection.ensure_connection()
    raw = connection.connection
    for _ in range(3):
        next_request()
    assert connection.connection is raw and select_one_checks == []


def test_a_connection_the_server_ended_is_replaced_before_the_next_query(select_one_checks):
    connection.ensure_connection()
    dead_pid = connection.connection.info.backend_pid
    end_session_from_outside(dead_pid)
    next_request()
    assert select_one_checks == [False]  # the socket had the goodbye to read; SELECT 1 confirmed it
    assert connection.connection is None
    with connection.cursor() as cursor:  # reconnects
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != dead_pid

"""idp.sessions: when and how a session signed in, held to ``max_age`` and ``id_token_hint``."""

import time

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory

from idp.keys import sign_jwt
from idp.sessions import (
    SessionProblem,
    authentication_methods,
    authentication_time,
    record_authentication,
    session_problem,
)
from idp.subjects import sub_for
from tests.conftest import ISSUER

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(user):
    request = RequestFactory().get("/authorize")
    request.session = SessionStore()
    request.user = user
    record_authentication(request, methods=("pwd", "otp"))
    return request


def hint_for(sub: str, *, iss: str = ISSUER) -> str:
    return sign_jwt({"iss": iss, "sub": sub, "aud": "web-client", "exp": int(time.time()) - 60})


def test_a_sign_in_is_recorded_with_its_time_and_methods(signed_in):
    assert abs(authentication_time(signed_in) - time.time()) < 5
    assert authentication_methods(signed_in) == ["pwd", "otp"]


def test_a_session_without_a_recorded_sign_in_has_no_time_and_no_methods(user):
    request = RequestFactory().get("/authorize")
    request.session, request.user = SessionStore(), user
    assert authentication_time(request) is None and authentication_methods(request) == []
    assert (
        session_problem(request, client=None, max_age="3600", id_token_hint=None)
        is SessionProblem.SIGN_IN_AGAIN
    )


def test_nothing_asked_is_no_problem(signed_in):
    assert session_problem(signed_in, client=None, max_age=None, id_token_hint=None) is None


@pytest.mark.parametrize("max_age", ["-1", "ten", "", "1.5"])
def test_max_age_is_a_non_negative_integer(signed_in, max_age):
    assert (
        session_problem(signed_in, client=None, max_age=max_age, id_token_hint=None)
        is SessionProblem.INVALID_MAX_AGE
    )


def test_a_sign_in_older_than_max_age_must_be_repeated(signed_in):
    assert session_problem(signed_in, client=None, max_age="60", id_token_hint=None) is None
    signed_in.session["idp_auth_time"] = int(time.time()) - 120
    assert (
        session_problem(signed_in, client=None, max_age="60", id_token_hint=None)
        is SessionProblem.SIGN_IN_AGAIN
    )
    assert (
        session_problem(signed_in, client=None, max_age="0", id_token_hint=None)
        is SessionProblem.SIGN_IN_AGAIN
    )


def test_an_id_token_hint_for_the_signed_in_person_is_no_problem_even_expired(signed_in, user):
    assert (
        session_problem(signed_in, client=None, max_age=None, id_token_hint=hint_for(sub_for(user, None)))
        is None
    )


def test_an_id_token_hint_for_someone_else_asks_for_a_new_sign_in(signed_in):
    problem = session_problem(signed_in, client=None, max_age=None, id_token_hint=hint_for("someone-else"))
    assert problem is SessionProblem.SIGN_IN_AGAIN


@pytest.mark.parametrize("hint", ["not-a-jwt", "a.b.c"])
def test_an_id_token_hint_not_issued_here_is_invalid(signed_in, hint):
    assert (
        session_problem(signed_in, client=None, max_age=None, id_token_hint=hint)
        is SessionProblem.INVALID_HINT
    )


def test_an_id_token_hint_from_another_issuer_is_invalid(signed_in, user):
    hint = hint_for(sub_for(user, None), iss="https://elsewhere.example")
    assert (
        session_problem(signed_in, client=None, max_age=None, id_token_hint=hint)
        is SessionProblem.INVALID_HINT
    )


def test_an_invalid_hint_is_reported_even_when_the_session_is_also_too_old(signed_in):
    signed_in.session["idp_auth_time"] = int(time.time()) - 120
    problem = session_problem(signed_in, client=None, max_age="60", id_token_hint="not-a-jwt")
    assert problem is SessionProblem.INVALID_HINT

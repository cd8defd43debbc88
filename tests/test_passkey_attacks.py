"""Attacks on the passkey endpoints (second review): NUL bytes, deep JSON, keys added from old sessions."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.urls import reverse

from idp.mfa.passkey_models import Passkey
from idp.sessions import AUTH_TIME_KEY
from tests.factories import UserFactory
from tests.test_passkey_views import authenticator, enroll, post_json

pytestmark = pytest.mark.django_db


def answer(credential_id: str) -> dict:
    response = {"clientDataJSON": "YQ", "authenticatorData": "YQ", "signature": "YQ", "userHandle": "YQ"}
    return {"id": credential_id, "rawId": "YQ", "type": "public-key", "response": response}


@pytest.mark.parametrize("credential_id", ["a\x00b", "a b", "a+/=", "x" * 2000])
def test_a_credential_id_that_is_not_base64url_is_a_400_before_any_query(client, credential_id):
    # PostgreSQL refuses NUL in a query parameter: without the check this was a 500, unauthenticated.
    post_json(client, "idp:passkey-authenticate-begin", {"mode": "passwordless"})
    body = {"mode": "passwordless", "credential": answer(credential_id)}
    response = post_json(client, "idp:passkey-authenticate-finish", body)
    assert response.status_code == 400 and response.json()["error"] == "malformed_response"


def test_nul_and_control_characters_are_dropped_from_passkey_names(client):
    client.force_login(UserFactory())
    _, response = enroll(client, name="Lap\x00top\x07")
    assert response.status_code == 200, response.content
    passkey = Passkey.objects.get()
    assert passkey.name == "Laptop"
    response = client.post(reverse("idp:passkey-rename", args=[passkey.pk]), {"name": "Ph\x00one"})
    assert response.status_code == 302
    passkey.refresh_from_db()
    assert passkey.name == "Phone"


@pytest.mark.parametrize("name", ["idp:passkey-authenticate-begin", "idp:passkey-authenticate-finish"])
def test_deeply_nested_json_is_a_400_not_a_500(client, name):
    response = post_json(client, name, raw=b"[" * 60000)
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def age_session(client, seconds: int) -> None:
    session = client.session
    session[AUTH_TIME_KEY] -= seconds
    session.save()


def test_a_passkey_is_added_only_from_a_fresh_sign_in(client):
    # A passkey signs in on its own and outlives a password change: a stolen or forgotten session
    # must not be able to add one. The person signs in again first, and comes back to the page.
    client.force_login(UserFactory())
    age_session(client, 3600)
    response = post_json(client, "idp:passkey-register-begin", {"next": "/authorize?client_id=x"})
    assert response.status_code == 403 and response.json()["error"] == "sign_in_again"
    security = f"{reverse('idp:account-security')}?{urlencode({'next': '/authorize?client_id=x'})}"
    assert response.json()["redirect"] == f"{reverse('idp:login')}?{urlencode({'next': security})}"
    assert "idp_passkey_challenge" not in client.session  # nothing to answer


def test_a_registration_begun_fresh_is_not_finished_after_the_sign_in_went_stale(client):
    client.force_login(UserFactory())
    options = post_json(client, "idp:passkey-register-begin").json()
    age_session(client, 3600)
    credential = authenticator().create(options)
    response = post_json(client, "idp:passkey-register-finish", {"credential": credential, "name": "x"})
    assert response.status_code == 403 and response.json()["error"] == "sign_in_again"
    assert not Passkey.objects.exists()


def test_a_fresh_sign_in_adds_a_passkey(client):
    client.force_login(UserFactory())
    age_session(client, 60)
    _, response = enroll(client)
    assert response.status_code == 200 and Passkey.objects.count() == 1


def test_a_credential_given_as_a_deeply_nested_json_string_is_a_400(client):
    # py_webauthn parses a string credential with json.loads itself and lets RecursionError through.
    credential = "[" * 60000
    post_json(client, "idp:passkey-authenticate-begin", {"mode": "passwordless"})
    body = {"mode": "passwordless", "credential": credential}
    response = post_json(client, "idp:passkey-authenticate-finish", body)
    assert response.status_code == 400 and response.json()["error"] == "malformed_response"
    client.force_login(UserFactory())
    post_json(client, "idp:passkey-register-begin")
    response = post_json(client, "idp:passkey-register-finish", {"credential": credential, "name": "x"})
    assert response.status_code == 400 and response.json()["error"] == "malformed_response"

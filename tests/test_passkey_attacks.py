"""Attacks on the passkey endpoints (second review): NUL bytes, deep JSON, keys added from old sessions."""

from __future__ import annotations

import pytest
from django.urls import reverse

from idp.mfa.passkey_models import Passkey
from tests.factories import UserFactory
from tests.test_passkey_views import enroll, post_json

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

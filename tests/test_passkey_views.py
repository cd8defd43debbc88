"""The passkey endpoints (idp.views.passkeys): JSON ceremonies, second factor, passwordless, rename/remove."""

from __future__ import annotations

import json

import pyotp
import pytest
from django.test import Client
from django.urls import reverse

from idp.mfa import acr, factors, flow, recovery
from idp.mfa.passkey_models import Passkey
from idp.models import AuditEvent
from idp.sessions import AUTH_TIME_KEY, authentication_methods
from oidc_selftest.pkce import pkce_pair
from tests.conftest import ISSUER, authorize, authorize_params, exchange, query_of, verify_id_token
from tests.factories import PASSWORD, UserFactory
from tests.soft_authenticator import SoftAuthenticator
from tests.test_mfa_sign_in import enroll_totp

pytestmark = pytest.mark.django_db
Event = AuditEvent.Event


def post_json(client, name: str, body=None, *, raw: bytes | None = None):
    data = raw if raw is not None else json.dumps(body or {})
    return client.post(reverse(name), data=data, content_type="application/json")


def authenticator(**kwargs) -> SoftAuthenticator:
    return SoftAuthenticator(origin=ISSUER, rp_id="127.0.0.1", **kwargs)


def enroll(client, key: SoftAuthenticator | None = None, *, name: str = "Laptop"):
    key = key or authenticator()
    options = post_json(client, "idp:passkey-register-begin").json()
    response = post_json(
        client, "idp:passkey-register-finish", {"credential": key.create(options), "name": name}
    )
    return key, response


@pytest.fixture
def enrolled():
    """A person, the authenticator holding their one passkey, and the session that enrolled it."""
    user = UserFactory()
    client = Client()
    client.force_login(user)
    key, response = enroll(client)
    assert response.status_code == 200, response.content
    return user, key, client


@pytest.fixture
def person_with_passkey(enrolled):
    return enrolled[:2]


def sign_in_with_password(client, user) -> None:
    response = client.post(reverse("idp:login"), {"username": user.get_username(), "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("idp:login-verify")), response["Location"]


def passkey_sign_in(client, key: SoftAuthenticator, *, mode: str, count_step: int = 1, **extra):
    options = post_json(client, "idp:passkey-authenticate-begin", {"mode": mode})
    assert options.status_code == 200, options.content
    answer = key.get(options.json(), count_step=count_step)
    return post_json(client, "idp:passkey-authenticate-finish", {"mode": mode, "credential": answer, **extra})


def refusals(reason: str) -> int:
    return AuditEvent.objects.filter(event=Event.PASSKEY_REFUSED, details__reason=reason).count()


# Registration


def test_registration_needs_a_signed_in_person(client):
    response = post_json(client, "idp:passkey-register-begin")
    assert response.status_code == 401 and response.json()["error"] == "login_required"


def test_registration_stores_audits_and_notifies(client, mailoutbox):
    user = UserFactory()
    client.force_login(user)
    key, response = enroll(client, name="Phone")
    assert response.status_code == 200
    assert response.json()["redirect"] == reverse("idp:account-security")
    passkey = Passkey.objects.get(user=user)
    assert passkey.credential_id == key.id and passkey.name == "Phone"
    event = AuditEvent.objects.get(event=Event.FACTOR_ADDED)
    assert event.details["kind"] == "passkey" and event.details["name"] == "Phone"
    assert [message.to for message in mailoutbox] == [[user.email]]
    assert factors.has_second_factor(user)
    # Registering used the passkey: the session now counts as signed in with a second factor.
    request = type("R", (), {"session": client.session})()
    assert {"hwk", "pin", "mfa"} <= set(authentication_methods(request))


def test_registration_is_csrf_protected():
    user = UserFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert post_json(client, "idp:passkey-register-begin").status_code == 403


@pytest.mark.parametrize("raw", [b"{", b"[]", b'"x"', b"\xff"])
def test_registration_with_bad_json_is_a_400_not_audited(client, raw):
    client.force_login(UserFactory())
    post_json(client, "idp:passkey-register-begin")
    response = post_json(client, "idp:passkey-register-finish", raw=raw)
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"
    assert not AuditEvent.objects.filter(event=Event.PASSKEY_REFUSED).exists()


def test_registration_from_another_origin_is_refused_and_audited(client):
    client.force_login(UserFactory())
    options = post_json(client, "idp:passkey-register-begin").json()
    credential = authenticator().create(options, origin="https://evil.example.net")
    response = post_json(client, "idp:passkey-register-finish", {"credential": credential, "name": "x"})
    assert response.status_code == 400 and response.json()["error"] == "wrong_origin"
    assert response.json()["message"]
    assert refusals("wrong_origin") == 1 and not Passkey.objects.exists()


# Passwordless sign-in


def test_passwordless_sign_in_signs_the_owner_in_with_hwk_and_pin(client, person_with_passkey):
    user, key = person_with_passkey
    response = passkey_sign_in(client, key, mode="passwordless")
    assert response.status_code == 200, response.content
    assert response.json()["redirect"].startswith("/")
    assert int(client.session["_auth_user_id"]) == user.pk
    request = type("R", (), {"session": client.session})()
    assert set(authentication_methods(request)) == {"hwk", "pin", "mfa"}


def test_passwordless_sign_in_keeps_a_safe_next_only(client, person_with_passkey):
    _, key = person_with_passkey
    response = passkey_sign_in(client, key, mode="passwordless", next="https://evil.example.net/")
    assert "evil" not in response.json()["redirect"]
    client.logout()
    response = passkey_sign_in(client, key, mode="passwordless", next="/authorize?client_id=x")
    assert response.json()["redirect"] == "/authorize?client_id=x"


def test_an_unknown_passkey_is_refused_and_audited(client, person_with_passkey):
    stranger = authenticator()
    stranger.user_handle = b"someone"
    response = passkey_sign_in(client, stranger, mode="passwordless")
    assert response.status_code == 400 and response.json()["error"] == "unknown_passkey"
    assert "_auth_user_id" not in client.session
    assert refusals("unknown_passkey") == 1


def test_a_replayed_answer_is_refused(client, person_with_passkey):
    _, key = person_with_passkey
    options = post_json(client, "idp:passkey-authenticate-begin", {"mode": "passwordless"}).json()
    answer = {"mode": "passwordless", "credential": key.get(options)}
    assert post_json(client, "idp:passkey-authenticate-finish", answer).status_code == 200
    client.logout()
    replay = post_json(client, "idp:passkey-authenticate-finish", answer)
    assert replay.status_code == 400 and replay.json()["error"] == "no_challenge"
    assert "_auth_user_id" not in client.session
    assert refusals("no_challenge") == 1


def test_a_signature_counter_going_back_is_refused_and_audited(client, person_with_passkey):
    _, key = person_with_passkey
    assert passkey_sign_in(client, key, mode="passwordless", count_step=5).status_code == 200
    client.logout()
    key.sign_count = 1  # a clone of the authenticator, made before those uses
    response = passkey_sign_in(client, key, mode="passwordless")
    assert response.status_code == 400 and response.json()["error"] == "sign_count_regressed"
    assert refusals("sign_count_regressed") == 1


@pytest.mark.parametrize("body", [{}, {"mode": "other"}, {"mode": ["passwordless"]}])
def test_an_unknown_mode_is_a_400(client, body):
    assert post_json(client, "idp:passkey-authenticate-begin", body).status_code == 400


def test_sign_in_endpoints_answer_post_only(client):
    assert client.get(reverse("idp:passkey-authenticate-begin")).status_code == 405


# Passkey as the second factor


def test_password_then_passkey_signs_in_with_pwd_hwk_and_mfa(client, person_with_passkey):
    user, key = person_with_passkey
    sign_in_with_password(client, user)
    options = post_json(client, "idp:passkey-authenticate-begin", {"mode": "second_factor"}).json()
    assert [item["id"] for item in options["allowCredentials"]] == [key.id]
    response = post_json(
        client, "idp:passkey-authenticate-finish", {"mode": "second_factor", "credential": key.get(options)}
    )
    assert response.status_code == 200, response.content
    assert int(client.session["_auth_user_id"]) == user.pk
    request = type("R", (), {"session": client.session})()
    assert set(authentication_methods(request)) == {"pwd", "hwk", "pin", "mfa"}


def test_someone_elses_passkey_is_not_a_second_factor(client, person_with_passkey):
    _, mallorys_key = person_with_passkey
    alice = UserFactory()
    alice_client = Client()
    alice_client.force_login(alice)
    enroll(alice_client)
    sign_in_with_password(client, alice)
    response = passkey_sign_in(client, mallorys_key, mode="second_factor")
    assert response.status_code == 400 and response.json()["error"] == "foreign_passkey"
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.get(event=Event.PASSKEY_REFUSED).actor == alice


def test_second_factor_without_a_pending_sign_in_is_a_400(client, person_with_passkey):
    response = post_json(client, "idp:passkey-authenticate-begin", {"mode": "second_factor"})
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_the_second_step_offers_a_passkey_only_to_people_with_one(client, person_with_passkey):
    user, _ = person_with_passkey
    sign_in_with_password(client, user)
    page = client.get(reverse("idp:login-verify"))
    assert b"Use a passkey" in page.content and b"idp/passkeys.js" in page.content


# Managing passkeys


def test_the_security_page_lists_passkeys(person_with_passkey):
    user, _ = person_with_passkey
    client = Client()
    client.force_login(user)
    page = client.get(reverse("idp:account-security"))
    assert b"Laptop" in page.content and b"Add a passkey" in page.content


def test_rename_changes_the_name_and_is_audited(enrolled, mailoutbox):
    user, _, client = enrolled
    passkey = Passkey.objects.get(user=user)
    response = client.post(reverse("idp:passkey-rename", args=[passkey.pk]), {"name": "  Old   phone "})
    assert response.status_code == 302
    passkey.refresh_from_db()
    assert passkey.name == "Old phone"
    assert AuditEvent.objects.get(event=Event.FACTOR_RENAMED).details["old_name"] == "Laptop"


def test_nobody_renames_or_removes_someone_elses_passkey(person_with_passkey):
    _, _ = person_with_passkey
    passkey = Passkey.objects.get()
    client = Client()
    client.force_login(UserFactory())
    assert client.post(reverse("idp:passkey-rename", args=[passkey.pk]), {"name": "x"}).status_code == 404
    assert client.post(reverse("idp:passkey-remove", args=[passkey.pk])).status_code == 404
    assert Passkey.objects.filter(pk=passkey.pk, name="Laptop").exists()


def test_changing_passkeys_from_a_session_without_a_second_factor_needs_a_step_up(person_with_passkey):
    user, _ = person_with_passkey
    client = Client()
    client.force_login(user)  # a password-only session
    response = post_json(client, "idp:passkey-register-begin")
    assert response.status_code == 403 and response.json()["error"] == "step_up_required"
    assert response.json()["redirect"].startswith(reverse("idp:login-verify"))
    passkey = Passkey.objects.get(user=user)
    response = client.post(reverse("idp:passkey-remove", args=[passkey.pk]))
    assert response["Location"].startswith(reverse("idp:login-verify"))
    assert Passkey.objects.filter(pk=passkey.pk).exists()


def test_removing_the_last_factor_needs_a_fresh_sign_in(enrolled):
    user, _, client = enrolled
    session = client.session
    session[AUTH_TIME_KEY] -= 3600  # signed in an hour ago
    session.save()
    passkey = Passkey.objects.get(user=user)
    response = client.post(reverse("idp:passkey-remove", args=[passkey.pk]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("idp:login"))
    assert Passkey.objects.filter(pk=passkey.pk).exists()


def test_removing_a_passkey_after_a_fresh_sign_in(client, person_with_passkey, mailoutbox):
    user, key = person_with_passkey
    assert passkey_sign_in(client, key, mode="passwordless").status_code == 200
    passkey = Passkey.objects.get(user=user)
    recovery.replace_codes(user)
    response = client.post(reverse("idp:passkey-remove", args=[passkey.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("idp:account-security")
    assert not Passkey.objects.exists()
    details = AuditEvent.objects.get(event=Event.FACTOR_REMOVED).details
    assert details == {"kind": "passkey", "passkey": passkey.pk, "name": "Laptop", "user": user.username}
    assert recovery.remaining(user) == 0  # a backup of no factor is gone with the last one
    assert not factors.has_second_factor(user)


def test_removing_one_of_two_passkeys_needs_no_fresh_sign_in(enrolled):
    user, _, client = enrolled
    enroll(client, name="Second")  # adding one needs a fresh sign-in, removing one of two does not
    session = client.session
    session[AUTH_TIME_KEY] -= 3600
    session.save()
    passkey = Passkey.objects.get(user=user, name="Laptop")
    assert client.post(reverse("idp:passkey-remove", args=[passkey.pk]))["Location"] == reverse(
        "idp:account-security"
    )
    assert list(Passkey.objects.values_list("name", flat=True)) == ["Second"]


def test_an_operator_reset_removes_passkeys(person_with_passkey):
    user, _ = person_with_passkey
    removed = flow.reset_factors(user, actor=UserFactory(is_staff=True))
    assert removed["passkey"] == 1 and not Passkey.objects.exists()


# What relying parties see


def test_a_passkey_sign_in_gives_phr_in_the_id_token(client, person_with_passkey, web_client):
    _, key = person_with_passkey
    assert passkey_sign_in(client, key, mode="passwordless").status_code == 200
    body = exchange(client, web_client, authorize(client, web_client)).json()
    claims = verify_id_token(client, body["id_token"])
    assert claims["amr"] == ["hwk", "pin", "mfa"] and claims["acr"] == acr.PHR


def test_without_user_verification_a_passkey_alone_is_not_mfa(client, web_client):
    user = UserFactory()
    setup = Client()
    setup.force_login(user)
    key, _ = enroll(setup, authenticator(user_verifies=False))
    assert passkey_sign_in(client, key, mode="passwordless").status_code == 200
    claims = verify_id_token(
        client, exchange(client, web_client, authorize(client, web_client)).json()["id_token"]
    )
    assert claims["amr"] == ["hwk", "user"] and claims["acr"] == acr.PHR


def test_phr_asked_of_a_totp_session_steps_up_with_the_passkey(client, person_with_passkey, web_client):
    user, key = person_with_passkey
    _, secret = enroll_totp(user)
    client.post(reverse("idp:login"), {"username": user.get_username(), "password": PASSWORD})
    client.post(reverse("idp:login-verify"), {"method": "totp", "code": pyotp.TOTP(secret).now()})
    _, challenge = pkce_pair()
    claims_request = json.dumps({"id_token": {"acr": {"essential": True, "values": [acr.PHR]}}})
    params = authorize_params(web_client, challenge=challenge, claims=claims_request)
    response = client.get("/authorize", params)
    assert response["Location"].startswith(reverse("idp:login-verify"))
    next_url = query_of(response["Location"])["next"]
    page = client.get(response["Location"])
    assert b"Use a passkey" in page.content
    finished = passkey_sign_in(client, key, mode="second_factor", next=next_url)
    assert finished.status_code == 200 and finished.json()["redirect"] == next_url
    authz = authorize(client, web_client, claims=claims_request)
    claims = verify_id_token(client, exchange(client, web_client, authz).json()["id_token"])
    assert claims["acr"] == acr.PHR and {"pwd", "otp", "hwk", "mfa"} <= set(claims["amr"])

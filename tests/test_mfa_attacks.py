"""A second reviewer's attacks on the second step: other ways in, hostile input, replays."""

import time

import pytest

from idp.sessions import AMR_KEY
from tests.factories import PASSWORD
from tests.test_mfa_sign_in import enroll_totp

pytestmark = pytest.mark.django_db


def test_the_admin_sign_in_does_not_skip_the_second_factor(client, user):
    user.is_staff = True
    user.save()
    enroll_totp(user)
    response = client.post("/admin/login/", {"username": "alice", "password": PASSWORD, "next": "/admin/"})
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302
    # The admin's sign-in is the provider's: password, then the second step.
    assert response.status_code == 302
    follow = client.get("/admin/login/?next=/admin/")
    assert follow.status_code == 302 and follow["Location"].startswith("/login?")
    assert AMR_KEY not in client.session


@pytest.mark.parametrize("name", ["Phone\x00", "x" * 100_000, "\ufeff\u202e"])
def test_hostile_device_names_are_not_a_server_error(client, user, name):
    client.force_login(user)
    response = client.post("/account/security/totp", {"name": name})
    assert response.status_code == 302
    device, _secret = enroll_totp(user)
    client.force_login(user)
    session = client.session
    session[AMR_KEY] = ["pwd", "otp", "mfa"]
    session.save()
    response = client.post(f"/account/security/totp/{device.pk}/rename", {"name": name})
    assert response.status_code == 302
    device.refresh_from_db()
    assert "\x00" not in device.name and len(device.name) <= 64


@pytest.mark.parametrize("superuser", [False, True])
def test_an_operator_cannot_reset_their_own_factors_in_the_admin(user, superuser):
    """That would turn two-step sign-in off without the fresh sign-in /account/security asks for."""
    from django.contrib.auth.models import Permission
    from django.test import Client

    from idp.mfa.factors import has_second_factor
    from tests.factories import UserFactory

    operator = UserFactory(username="helpdesk", is_staff=True, is_superuser=superuser)
    operator.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="accounts", codename__in=["view_user", "change_user"]
        )
    )
    enroll_totp(operator)
    browser = Client()
    browser.force_login(operator)
    browser.post(
        "/admin/accounts/user/", {"action": "reset_second_factors", "_selected_action": [operator.pk]}
    )
    assert has_second_factor(operator)


def test_signing_in_to_ones_own_account_does_not_reset_the_count_against_another(client, user, settings):
    """With the password of alice, mallory guesses codes and signs in as herself between rounds."""
    from tests.factories import UserFactory

    settings.AXES_FAILURE_LIMIT = 3
    UserFactory(username="mallory")
    enroll_totp(user)
    for _ in range(2):
        client.post("/login", {"username": "alice", "password": PASSWORD})
        client.post("/login/verify", {"method": "totp", "code": "000000"})
        own = client.post("/login", {"username": "mallory", "password": PASSWORD})
        assert own.status_code == 302 and client.session["_auth_user_id"]
        client.post("/logout")
    # Two wrong codes and one more: alice's account is locked from this address.
    client.post("/login", {"username": "alice", "password": PASSWORD})
    assert client.post("/login/verify", {"method": "totp", "code": "000000"}).status_code == 429


def test_a_finished_sign_in_still_clears_the_persons_own_failures(client, user, settings):
    import pyotp

    settings.AXES_FAILURE_LIMIT = 3
    _, secret = enroll_totp(user, now=time.time() - 60)
    client.post("/login", {"username": "alice", "password": PASSWORD})
    for _ in range(2):
        client.post("/login/verify", {"method": "totp", "code": "000000"})
    assert (
        client.post("/login/verify", {"method": "totp", "code": pyotp.TOTP(secret).now()}).status_code == 302
    )
    client.post("/logout")
    client.post("/login", {"username": "alice", "password": PASSWORD})
    for _ in range(2):
        assert client.post("/login/verify", {"method": "totp", "code": "000000"}).status_code == 400


@pytest.mark.parametrize(
    "acr_query",
    [
        {"values": 5},
        {"values": True},
        {"value": ["x"]},
        {"values": [None, {}]},
        {"values": {"a": 1}},
        7,
        None,
    ],
)
def test_odd_acr_queries_in_the_claims_parameter_are_not_a_server_error(logged_in, web_client, acr_query):
    import json

    from tests.conftest import authorize_params, pkce_pair

    _, challenge = pkce_pair()
    claims = json.dumps({"id_token": {"acr": acr_query}})
    response = logged_in.get("/authorize", authorize_params(web_client, challenge=challenge, claims=claims))
    assert response.status_code in (200, 302, 400)


@pytest.mark.parametrize("acr_query", [{"values": 5}, {"values": True}, {"value": {}}, 7])
def test_odd_acr_queries_in_a_forged_consent_post_are_not_a_server_error(logged_in, web_client, acr_query):
    import json

    from tests.conftest import REDIRECT_URI, pkce_pair

    _, challenge = pkce_pair()
    data = {
        "idp_consent": "1", "allow": "1", "client_id": web_client.client_id, "redirect_uri": REDIRECT_URI,
        "response_type": "code", "scope": "openid", "state": "s", "code_challenge": challenge,
        "code_challenge_method": "S256", "nonce": "n", "claims": json.dumps({"id_token": {"acr": acr_query}}),
    }  # fmt: skip
    response = logged_in.post("/authorize", data)
    assert response.status_code in (302, 400)


def test_a_forged_consent_post_with_claims_nested_too_deep_is_not_a_server_error(logged_in, web_client):
    from tests.conftest import REDIRECT_URI, pkce_pair

    _, challenge = pkce_pair()
    data = {
        "idp_consent": "1", "allow": "1", "client_id": web_client.client_id, "redirect_uri": REDIRECT_URI,
        "response_type": "code", "scope": "openid", "state": "s", "code_challenge": challenge,
        "code_challenge_method": "S256", "nonce": "n", "claims": "[" * 5000,
    }  # fmt: skip
    response = logged_in.post("/authorize", data)
    assert response.status_code in (302, 400)


@pytest.mark.parametrize(
    "data",
    [
        {"method": "totp", "code": "12\x003456"},
        {"method": "recovery", "recovery_code": "ABCD-\x00EFG-HJKM-NPQR"},
        {"method": "totp\x00", "code": "123456", "next": "/\x00evil"},
        {"method": "totp", "code": "\uff11\uff12\uff13\uff14\uff15\uff16"},  # full-width digits
        {"method": "recovery", "recovery_code": "x" * 100_000},
        {"method": "totp", "code": "9" * 100_000},
    ],
)
def test_hostile_second_step_input_is_a_wrong_code_not_a_server_error(client, user, data):
    enroll_totp(user)
    client.post("/login", {"username": "alice", "password": PASSWORD})
    assert client.post("/login/verify", data).status_code == 400
    client.force_login(user)  # a step-up: next is read
    assert client.post("/login/verify", data).status_code == 400

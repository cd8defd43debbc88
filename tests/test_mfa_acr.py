"""amr and acr in ID tokens, acr_values_supported, step-up with acr_values / claims, prompt=none, policies."""

import json

import pyotp
import pytest

from idp.mfa import acr, recovery
from idp.models import AuditEvent
from oidc_selftest.pkce import pkce_pair
from tests.conftest import (
    Authorization,
    authorize,
    authorize_params,
    basic_auth,
    consent_form_data,
    exchange,
    query_of,
    verify_id_token,
)
from tests.factories import PASSWORD, ApplicationFactory
from tests.test_mfa_sign_in import enroll_totp

pytestmark = pytest.mark.django_db

SFA, MFA, PHR = acr.SFA, acr.MFA, acr.PHR


def id_claims(client, app, **params):
    body = exchange(client, app, authorize(client, app, **params)).json()
    return verify_id_token(client, body["id_token"])


def sign_in_with_totp(client, user, secret, *, next_url="/"):
    client.post("/login", {"username": user.username, "password": PASSWORD, "next": next_url})
    return client.post("/login/verify", {"method": "totp", "code": pyotp.TOTP(secret).now()})


def follow_step_up(client, response, secret):
    """The authorize answer sent the person to /login/verify: give the code, come back."""
    assert response.status_code == 302 and response["Location"].startswith("/login/verify?next=")
    next_url = query_of(response["Location"])["next"]
    page = client.get(response["Location"])
    assert page.status_code == 200 and page.context["step_up"]
    done = client.post(
        "/login/verify", {"method": "totp", "code": pyotp.TOTP(secret).now(), "next": next_url}
    )
    assert done.status_code == 302 and done["Location"] == next_url
    return next_url


def test_discovery_advertises_the_acr_values(client):
    doc = client.get("/.well-known/openid-configuration").json()
    assert doc["acr_values_supported"] == [SFA, MFA, PHR]
    assert {"acr", "amr"} <= set(doc["claims_supported"])


def test_password_sign_in_is_pwd_and_single_factor(logged_in, web_client):
    claims = id_claims(logged_in, web_client)
    assert claims["amr"] == ["pwd"] and claims["acr"] == SFA


def test_password_and_totp_is_mfa(client, user, web_client):
    _, secret = enroll_totp(user)
    sign_in_with_totp(client, user, secret)
    claims = id_claims(client, web_client)
    assert claims["amr"] == ["pwd", "otp", "mfa"] and claims["acr"] == MFA


def test_password_and_recovery_code_is_otp_and_mfa(client, user, web_client):
    enroll_totp(user)
    codes = recovery.replace_codes(user)
    client.post("/login", {"username": "alice", "password": PASSWORD})
    client.post("/login/verify", {"method": "recovery", "recovery_code": codes[3]})
    claims = id_claims(client, web_client)
    assert claims["amr"] == ["pwd", "otp", "mfa"] and claims["acr"] == MFA


def test_the_strongest_requested_value_satisfied_is_returned(client, user, web_client):
    _, secret = enroll_totp(user)
    sign_in_with_totp(client, user, secret)
    assert id_claims(client, web_client, acr_values=f"{SFA} {MFA}")["acr"] == MFA
    assert id_claims(client, web_client, acr_values=SFA)["acr"] == SFA
    assert id_claims(client, web_client, acr_values="urn:unknown 1 2")["acr"] == MFA


def test_acr_values_for_mfa_steps_a_password_session_up(client, user, web_client):
    _, secret = enroll_totp(user)
    client.force_login(user)  # a password-only session
    verifier, challenge = pkce_pair()
    params = authorize_params(web_client, challenge=challenge, acr_values=MFA)
    response = client.get("/authorize", params)
    signed_in_at = client.session["idp_auth_time"]
    next_url = follow_step_up(client, response, secret)
    assert client.session["idp_amr"] == ["pwd", "otp", "mfa"]
    assert client.session["idp_auth_time"] == signed_in_at  # a step-up does not refresh auth_time
    assert AuditEvent.objects.filter(event=AuditEvent.Event.STEP_UP).count() == 1
    response = client.get(next_url)
    if response.status_code == 200:
        response = client.post("/authorize", {**consent_form_data(response), "allow": "1"})
    code = query_of(response["Location"])["code"]
    body = exchange(client, web_client, Authorization(code, verifier, params["redirect_uri"], "")).json()
    claims = verify_id_token(client, body["id_token"])
    assert claims["acr"] == MFA and "otp" in claims["amr"]


def test_essential_acr_in_the_claims_parameter_steps_up(client, user, web_client):
    _, secret = enroll_totp(user)
    client.force_login(user)
    claims = json.dumps({"id_token": {"acr": {"essential": True, "values": [MFA]}}})
    response = client.get("/authorize", authorize_params(web_client, challenge=pkce_pair()[1], claims=claims))
    follow_step_up(client, response, secret)


def test_prompt_none_with_step_up_needed_is_interaction_required(client, user, web_client):
    enroll_totp(user)
    client.force_login(user)
    params = authorize_params(web_client, challenge=pkce_pair()[1], acr_values=MFA, prompt="none")
    response = client.get("/authorize", params)
    assert response.status_code == 302 and response["Location"].startswith("https://rp.example.com/callback")
    query = query_of(response["Location"])
    assert query["error"] == "interaction_required" and query["state"] == "xyz-state" and "code" not in query


def test_a_person_without_a_factor_is_led_to_enroll(logged_in, web_client):
    response = logged_in.get(
        "/authorize", authorize_params(web_client, challenge=pkce_pair()[1], acr_values=MFA)
    )
    assert response.status_code == 302 and response["Location"].startswith("/account/security?next=")
    page = logged_in.get(response["Location"])
    assert page.status_code == 200 and page.context["next"].startswith("/authorize?")


def test_essential_phr_without_a_passkey_is_unmet(client, user, web_client):
    enroll_totp(user)
    client.force_login(user)
    claims = json.dumps({"id_token": {"acr": {"essential": True, "values": [PHR]}}})
    response = client.get("/authorize", authorize_params(web_client, challenge=pkce_pair()[1], claims=claims))
    assert query_of(response["Location"])["error"] == "unmet_authentication_requirements"


def test_voluntary_phr_without_a_passkey_gets_what_the_session_has(logged_in, web_client):
    assert id_claims(logged_in, web_client, acr_values=PHR)["acr"] == SFA


def test_a_client_requiring_a_second_factor_steps_up(client, user):
    app = ApplicationFactory(client_id="strict", require_second_factor=True)
    _, secret = enroll_totp(user)
    client.force_login(user)
    response = client.get("/authorize", authorize_params(app, challenge=pkce_pair()[1]))
    follow_step_up(client, response, secret)
    assert id_claims(client, app)["acr"] == MFA


def test_a_client_requiring_a_second_factor_refuses_a_forged_consent_post(client, user):
    app = ApplicationFactory(client_id="strict", require_second_factor=True)
    client.force_login(user)
    _verifier, challenge = pkce_pair()
    data = {
        "idp_consent": "1", "allow": "1", "client_id": app.client_id, "redirect_uri": "https://rp.example.com/callback",
        "response_type": "code", "scope": "openid", "state": "s", "code_challenge": challenge,
        "code_challenge_method": "S256", "nonce": "n",
    }  # fmt: skip
    response = client.post("/authorize", data)
    query = query_of(response["Location"])
    assert query.get("error") == "interaction_required" and "code" not in query


@pytest.mark.parametrize(
    ("policy", "staff", "stepped_up"),
    [("all", False, True), ("staff", True, True), ("staff", False, False), (None, True, False)],
)
def test_site_wide_policy(client, user, web_client, settings, policy, staff, stepped_up):
    settings.IDP = {**getattr(settings, "IDP", {}), "REQUIRE_SECOND_FACTOR": policy}
    user.is_staff = staff
    user.save()
    enroll_totp(user)
    client.force_login(user)
    response = client.get("/authorize", authorize_params(web_client, challenge=pkce_pair()[1]))
    assert response.get("Location", "").startswith("/login/verify") is stepped_up


def test_refresh_keeps_amr_and_acr(client, user, web_client):
    _, secret = enroll_totp(user)
    sign_in_with_totp(client, user, secret)
    authz = authorize(client, web_client, scope="openid offline_access", prompt="consent", acr_values=MFA)
    body = exchange(client, web_client, authz).json()
    refreshed = client.post(
        "/token", {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
        HTTP_AUTHORIZATION=basic_auth(web_client.client_id),
    ).json()  # fmt: skip
    claims = verify_id_token(client, refreshed["id_token"])
    assert claims["acr"] == MFA and claims["amr"] == ["pwd", "otp", "mfa"]


def test_max_age_still_asks_for_a_fresh_sign_in_after_a_step_up(client, user, web_client):
    _, secret = enroll_totp(user)
    client.force_login(user)
    session = client.session
    session["idp_auth_time"] -= 120
    session.save()
    response = client.get(
        "/authorize", authorize_params(web_client, challenge=pkce_pair()[1], acr_values=MFA)
    )
    follow_step_up(client, response, secret)
    again = client.get("/authorize", authorize_params(web_client, challenge=pkce_pair()[1], max_age="60"))
    assert again.status_code == 302 and again["Location"].startswith("/login?next=")


@pytest.mark.parametrize(
    ("amr", "expected"),
    [
        (["pwd"], SFA), (["pwd", "otp", "mfa"], MFA), (["hwk", "pin", "mfa"], PHR), (["hwk", "user"], PHR),
        (["pwd", "hwk", "mfa"], PHR), ([], None),
    ],
)  # fmt: skip
def test_acr_for_each_sign_in_method(amr, expected):
    assert acr.acr_for(amr) == expected


def test_mfa_needs_two_kinds_of_factor():
    assert acr.with_mfa(["pwd", "otp"]) == ["pwd", "otp", "mfa"]
    assert acr.with_mfa(["hwk", "pin"]) == ["hwk", "pin", "mfa"]
    assert acr.with_mfa(["hwk", "user"]) == ["hwk", "user"]
    assert acr.with_mfa(["pwd", "pwd"]) == ["pwd"]


def test_a_device_client_requiring_a_second_factor_steps_up_before_its_consent_page(
    client, user, device_client
):
    from tests.test_flow_device import start

    device_client.require_second_factor = True
    device_client.save()
    _, secret = enroll_totp(user)
    code = start(client, device_client).json()["user_code"]
    client.force_login(user)
    response = client.post("/device", {"user_code": code})
    assert response.status_code == 302 and response["Location"].startswith("/login/verify?next=")
    back = follow_step_up(client, response, secret)
    assert client.get(back).status_code == 200
    page = client.post("/device", {"user_code": code})
    assert page.templates[0].name == "idp/device_consent.html"

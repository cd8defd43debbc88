"""The second sign-in step: password then TOTP or a recovery code, amr in the session, lockout counting."""

import time

import pyotp
import pytest
from django.core import mail

from idp.mfa import recovery, totp
from idp.models import AuditEvent
from idp.sessions import AMR_KEY
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def enroll_totp(user, *, now=None):
    """A confirmed authenticator app for ``user``; its secret (confirmed with the previous step's code)."""
    device, secret = totp.start_enrollment(user, name="Phone")
    at = (now or time.time()) - totp.STEP
    assert totp.confirm_enrollment(device, pyotp.TOTP(secret).at(at), now=at)
    return device, secret


def password_step(client, username="alice", next=None):
    data = {"username": username, "password": PASSWORD}
    if next:
        data["next"] = next
    return client.post("/login", data)


def test_password_alone_signs_in_a_person_without_a_factor(client, user):
    response = password_step(client)
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.session[AMR_KEY] == ["pwd"]


def test_a_person_with_a_factor_is_not_signed_in_after_the_password(client, user):
    enroll_totp(user)
    response = password_step(client, next="/account/apps")
    assert response.status_code == 302 and response["Location"] == "/login/verify"
    assert "_auth_user_id" not in client.session
    page = client.get("/login/verify")
    assert page.status_code == 200 and b'name="code"' in page.content
    assert client.get("/account/apps").status_code == 302  # still not signed in


def test_totp_finishes_the_sign_in_with_otp_and_mfa(client, user):
    _, secret = enroll_totp(user)
    password_step(client, next="/account/apps")
    response = client.post("/login/verify", {"method": "totp", "code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302 and response["Location"] == "/account/apps"
    assert client.session["_auth_user_id"] == str(user.pk)
    assert client.session[AMR_KEY] == ["pwd", "otp", "mfa"]
    event = AuditEvent.objects.filter(event=AuditEvent.Event.SIGN_IN).get()
    assert event.details["amr"] == ["pwd", "otp", "mfa"]


def test_recovery_code_finishes_the_sign_in_once(client, user):
    enroll_totp(user)
    codes = recovery.replace_codes(user)
    password_step(client)
    response = client.post("/login/verify", {"method": "recovery", "recovery_code": codes[0].lower()})
    assert response.status_code == 302
    assert client.session[AMR_KEY] == ["pwd", "otp", "mfa"]
    client.post("/logout")
    password_step(client)
    again = client.post("/login/verify", {"method": "recovery", "recovery_code": codes[0]})
    assert again.status_code == 400 and "_auth_user_id" not in client.session


def test_wrong_codes_count_toward_the_lockout(client, user, settings):
    settings.AXES_FAILURE_LIMIT = 3
    enroll_totp(user)
    password_step(client)
    for _ in range(2):
        assert client.post("/login/verify", {"method": "totp", "code": "000000"}).status_code == 400
    locked = client.post("/login/verify", {"method": "totp", "code": "000000"})
    assert locked.status_code == 429
    assert AuditEvent.objects.filter(event=AuditEvent.Event.LOCKOUT).count() == 1
    assert AuditEvent.objects.filter(event=AuditEvent.Event.SIGN_IN_FAILED).count() == 3
    # The right password is refused now too: the same lockout.
    assert password_step(client).status_code == 429


def test_verify_without_a_password_step_goes_to_sign_in(client, user):
    assert client.get("/login/verify")["Location"] == "/login"


def test_enrollment_is_audited_and_notifies(client, user):
    client.force_login(user)
    client.post("/account/security/totp", {"name": "Work phone"})
    page = client.get("/account/security/totp/setup")
    secret = page.context["secret"]
    assert secret and secret in page.content.decode()
    response = client.post("/account/security/totp/setup", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200 and len(response.context["codes"]) == 10
    assert AuditEvent.objects.filter(event=AuditEvent.Event.FACTOR_ADDED).count() == 1
    assert any("Authenticator" in m.body or "factor" in m.body for m in mail.outbox)
    # Never shown again.
    assert client.get("/account/security/totp/setup")["Location"] == "/account/security"


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/", "/\\evil.example"])
def test_step_up_never_redirects_off_site(client, user, next_url):
    _, secret = enroll_totp(user)
    client.force_login(user)
    response = client.post(
        "/login/verify", {"method": "totp", "code": pyotp.TOTP(secret).now(), "next": next_url}
    )
    assert response.status_code == 302 and response["Location"] == "/"


def test_pending_sign_in_never_redirects_off_site(client, user):
    _, secret = enroll_totp(user)
    password_step(client, next="https://evil.example/")
    response = client.post("/login/verify", {"method": "totp", "code": pyotp.TOTP(secret).now()})
    assert response["Location"] == "/"


def test_step_up_for_a_person_without_a_factor_leads_to_enrollment(client, user):
    client.force_login(user)
    response = client.get("/login/verify", {"next": "/account/apps"})
    assert response["Location"] == "/account/security?next=%2Faccount%2Fapps"


def test_garbage_codes_are_a_failed_attempt_not_an_error(client, user):
    enroll_totp(user)
    recovery.replace_codes(user)
    password_step(client)
    for data in [
        {"method": "totp", "code": "\x00" * 9},
        {"method": "recovery", "recovery_code": "é" * 30},
        {"method": "x"},
    ]:
        assert client.post("/login/verify", data).status_code == 400
    assert "_auth_user_id" not in client.session


def test_wrong_codes_are_not_kept_by_the_lockout_records(client, user):
    from axes.models import AccessAttempt

    enroll_totp(user)
    recovery.replace_codes(user)
    password_step(client)
    client.post("/login/verify", {"method": "recovery", "recovery_code": "ABCD-EFGH-JKMN-PQRT"})
    client.post("/login/verify", {"method": "totp", "code": "314159"})
    stored = " ".join(AccessAttempt.objects.values_list("post_data", flat=True))
    assert "ABCD" not in stored and "314159" not in stored and "recovery_code" in stored

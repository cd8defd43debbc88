"""TOTP (window, reuse, skew, sealing), recovery codes (hashed, single use), factor pages, admin reset."""

import time
from urllib.parse import urlencode

import pyotp
import pytest
from django.core import mail
from django.test import Client

from idp.mfa import recovery, totp
from idp.mfa.factors import has_second_factor
from idp.mfa.models import RecoveryCode, TotpDevice
from idp.models import AuditEvent
from tests.factories import PASSWORD, UserFactory
from tests.test_mfa_sign_in import enroll_totp

pytestmark = pytest.mark.django_db
Event = AuditEvent.Event
NOW = 1_800_000_015.0  # 15 s into a 30-second step


# --- TOTP ------------------------------------------------------------------------------------------


def new_device(user):
    device, secret = totp.start_enrollment(user, name="Phone")
    TotpDevice.objects.filter(pk=device.pk).update(confirmed=True)
    return TotpDevice.objects.get(pk=device.pk), pyotp.TOTP(secret)


def test_totp_accepts_one_step_of_skew_either_side(user):
    device, app = new_device(user)
    assert totp.verify_code(device, app.at(NOW - 30), now=NOW)
    device, app = new_device(user)
    assert totp.verify_code(device, app.at(NOW + 30), now=NOW)


def test_totp_refuses_two_steps_away(user):
    device, app = new_device(user)
    assert not totp.verify_code(device, app.at(NOW - 60), now=NOW)
    assert not totp.verify_code(device, app.at(NOW + 60), now=NOW)


def test_totp_code_is_single_use_within_its_window(user):
    device, app = new_device(user)
    code = app.at(NOW)
    assert totp.verify_code(device, code, now=NOW)
    assert not totp.verify_code(device, code, now=NOW)
    assert not totp.verify_code(device, code, now=NOW + 30)  # still inside the skew window


def test_totp_an_older_step_after_a_newer_one_is_refused(user):
    device, app = new_device(user)
    assert totp.verify_code(device, app.at(NOW), now=NOW)
    assert not totp.verify_code(device, app.at(NOW - 30), now=NOW)
    assert totp.verify_code(device, app.at(NOW + 30), now=NOW + 30)


FULL_WIDTH_DIGITS = "\uff11\uff12\uff13\uff14\uff15\uff16"


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", None, FULL_WIDTH_DIGITS])
def test_totp_malformed_codes_are_refused(user, code):
    device, _ = new_device(user)
    assert not totp.verify_code(device, code, now=NOW)


def test_totp_secret_is_sealed_at_rest(user, settings):
    device, secret = totp.start_enrollment(user, name="Phone")
    assert secret not in device.sealed_secret
    assert totp.unseal(device.sealed_secret) == secret
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40
    assert totp.unseal(device.sealed_secret) == secret  # old key still opens it
    settings.SECRET_KEY_FALLBACKS = []
    assert totp.unseal(device.sealed_secret) is None


def test_unconfirmed_app_is_not_a_factor(user):
    device, secret = totp.start_enrollment(user, name="Phone")
    assert not has_second_factor(user)
    assert not totp.confirm_enrollment(device, "000000")
    assert totp.confirm_enrollment(device, pyotp.TOTP(secret).now())
    assert has_second_factor(user)


# --- recovery codes ----------------------------------------------------------------------------


def test_recovery_codes_are_stored_hashed_and_work_once(user):
    codes = recovery.replace_codes(user)
    assert len(set(codes)) == 10
    stored = list(RecoveryCode.objects.filter(user=user).values_list("digest", flat=True))
    assert all(
        code not in digest and code.replace("-", "") not in digest for code in codes for digest in stored
    )
    assert recovery.use_code(user, codes[0])
    assert not recovery.use_code(user, codes[0])
    assert recovery.use_code(user, codes[1].lower().replace("-", " "))
    assert recovery.remaining(user) == 8


def test_recovery_codes_of_someone_else_do_not_work(user):
    other = UserFactory(username="bob")
    codes = recovery.replace_codes(other)
    assert not recovery.use_code(user, codes[0])


def test_new_recovery_codes_replace_the_old(user):
    old = recovery.replace_codes(user)
    recovery.replace_codes(user)
    assert not recovery.use_code(user, old[0])


# --- the account security page ---------------------------------------------------------------


def signed_in_with_totp(client, user, secret):
    client.post("/login", {"username": user.username, "password": PASSWORD})
    response = client.post("/login/verify", {"method": "totp", "code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302
    return client


def test_security_page_lists_factors(client, user):
    enroll_totp(user)
    client.force_login(user)
    page = client.get("/account/security")
    assert page.status_code == 200 and b"Phone" in page.content
    assert b"idp/_passkeys_section.html" not in page.content  # the include rendered, not its name


def test_security_page_needs_a_sign_in(client):
    assert client.get("/account/security")["Location"].startswith("/login?next=")


def test_changing_factors_from_a_password_only_session_needs_a_step_up(client, user):
    device, _ = enroll_totp(user)
    client.force_login(user)  # e.g. a session older than the enrollment
    response = client.post(f"/account/security/totp/{device.pk}/remove")
    assert response["Location"].startswith("/login/verify?next=")
    assert TotpDevice.objects.filter(pk=device.pk).exists()
    assert client.post("/account/security/totp", {"name": "Mine"})["Location"].startswith("/login/verify")


def test_rename_is_audited_and_notified(client, user):
    device, secret = enroll_totp(user, now=time.time() - 60)
    signed_in_with_totp(client, user, secret)
    client.post(f"/account/security/totp/{device.pk}/rename", {"name": "Old phone"})
    device.refresh_from_db()
    assert device.name == "Old phone"
    assert AuditEvent.objects.get(event=Event.FACTOR_RENAMED).details["name"] == "Old phone"
    assert mail.outbox[-1].to == ["alice@example.com"]


def test_a_change_is_confirmed_once_on_the_page(client, user):
    device, secret = enroll_totp(user, now=time.time() - 60)
    signed_in_with_totp(client, user, secret)
    page = client.post(f"/account/security/totp/{device.pk}/rename", {"name": "Old phone"}, follow=True)
    assert page.content.count(b'<p class="message') == 1


def test_removing_the_last_factor_needs_a_fresh_sign_in(client, user):
    device, secret = enroll_totp(user, now=time.time() - 60)
    recovery.replace_codes(user)
    signed_in_with_totp(client, user, secret)
    session = client.session
    session["idp_auth_time"] -= 600
    session.save()
    response = client.post(f"/account/security/totp/{device.pk}/remove")
    assert response["Location"].startswith("/login?next=")
    assert TotpDevice.objects.filter(pk=device.pk).exists()
    session = client.session
    session["idp_auth_time"] += 600
    session.save()
    response = client.post(f"/account/security/totp/{device.pk}/remove")
    assert response["Location"] == "/account/security"
    assert not has_second_factor(user) and not RecoveryCode.objects.filter(user=user).exists()
    assert AuditEvent.objects.filter(event=Event.FACTOR_REMOVED).count() == 1


def test_disabling_needs_a_fresh_sign_in_and_removes_everything(client, user):
    _, secret = enroll_totp(user, now=time.time() - 60)
    recovery.replace_codes(user)
    signed_in_with_totp(client, user, secret)
    assert client.post("/account/security/disable")["Location"] == "/account/security"
    assert not TotpDevice.objects.filter(user=user).exists()
    assert not RecoveryCode.objects.filter(user=user).exists()


def test_other_peoples_factors_cannot_be_touched(client, user):
    other = UserFactory(username="bob")
    device, _ = enroll_totp(other)
    client.force_login(user)
    assert client.post(f"/account/security/totp/{device.pk}/remove").status_code == 404
    assert client.post(f"/account/security/totp/{device.pk}/rename", {"name": "x"}).status_code == 404


def test_new_recovery_codes_are_shown_once_and_audited(client, user):
    _, secret = enroll_totp(user, now=time.time() - 60)
    signed_in_with_totp(client, user, secret)
    page = client.post("/account/security/recovery-codes")
    codes = page.context["codes"]
    assert len(codes) == 10 and codes[0].encode() in page.content
    assert AuditEvent.objects.filter(event=Event.RECOVERY_CODES_CREATED).count() == 1
    assert codes[0].encode() not in client.get("/account/security").content


def test_qr_code_is_an_svg_data_uri_the_csp_allows(client, user):
    client.force_login(user)
    client.post("/account/security/totp", {"name": "Phone"})
    page = client.get("/account/security/totp/setup")
    assert 'src="data:image/svg+xml' in page.content.decode()
    assert "img-src 'self' https: data:" in page["Content-Security-Policy"]


def test_next_after_enrollment_stays_on_this_site(client, user):
    client.force_login(user)
    client.post("/account/security/totp", {"name": "Phone", "next": "https://evil.example/x"})
    page = client.get("/account/security/totp/setup")
    secret = page.context["secret"]
    done = client.post(
        "/account/security/totp/setup", {"code": pyotp.TOTP(secret).now(), "next": "https://evil.example/x"}
    )
    assert "evil.example" not in done.content.decode()


# --- the admin: reset a person's factors ------------------------------------------------------


def test_admin_reset_removes_factors_audits_and_notifies(user):
    enroll_totp(user)
    recovery.replace_codes(user)
    operator = UserFactory(username="root", is_staff=True, is_superuser=True)
    browser = Client()
    browser.force_login(operator)
    response = browser.post(
        "/admin/accounts/user/", {"action": "reset_second_factors", "_selected_action": [user.pk]}
    )
    assert response.status_code == 302
    assert not has_second_factor(user) and not RecoveryCode.objects.filter(user=user).exists()
    event = AuditEvent.objects.get(event=Event.FACTORS_RESET)
    assert event.actor == operator and event.details["user"] == "alice"
    assert any(message.to == ["alice@example.com"] for message in mail.outbox)


def test_staff_cannot_reset_a_superusers_factors(user):
    boss = UserFactory(username="boss", is_staff=True, is_superuser=True)
    enroll_totp(boss)
    from django.contrib.auth.models import Permission

    helpdesk = UserFactory(username="helpdesk", is_staff=True)
    helpdesk.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="accounts", codename__in=["view_user", "change_user"]
        )
    )
    browser = Client()
    browser.force_login(helpdesk)
    browser.post("/admin/accounts/user/", {"action": "reset_second_factors", "_selected_action": [boss.pk]})
    assert has_second_factor(boss)


# --- the site-wide policy setting ---------------------------------------------------------------


@pytest.mark.parametrize(("policy", "ids"), [(None, []), ("staff", []), ("all", []), ("Staff", ["idp.E022"])])
def test_the_policy_setting_is_checked(settings, policy, ids):
    from idp.mfa.checks import check_second_factor_policy

    settings.IDP = {**getattr(settings, "IDP", {}), "REQUIRE_SECOND_FACTOR": policy}
    assert [message.id for message in check_second_factor_policy(None)] == ids


def test_adding_an_app_needs_a_fresh_sign_in(client, user):
    """A new factor is a new way in: an old (or stolen) session cannot add one; the person signs in
    again and comes back to the page, and from there to the app that asked."""
    client.force_login(user)
    session = client.session
    session["idp_auth_time"] -= 600
    session.save()
    response = client.post("/account/security/totp", {"name": "Mine", "next": "/authorize?client_id=x"})
    assert response.status_code == 302
    assert response["Location"] == "/login?" + urlencode(
        {"next": "/account/security?" + urlencode({"next": "/authorize?client_id=x"})}
    )
    assert not TotpDevice.objects.filter(user=user).exists()
    session = client.session
    session["idp_auth_time"] += 600
    session.save()
    response = client.post("/account/security/totp", {"name": "Mine"})
    assert response["Location"] == "/account/security/totp/setup"
    assert TotpDevice.objects.filter(user=user, confirmed=False).exists()

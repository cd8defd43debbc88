"""Account lifecycle: deactivation revokes every token, a new password revokes the refresh tokens."""

import re

import pytest
from django.contrib.auth.hashers import make_password
from django.core import mail
from django.test import Client

from idp.models import AccessToken, AuditEvent, RefreshToken
from tests.conftest import admin_form_data, authorize, exchange
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a brand new long passphrase"


@pytest.fixture
def two_clients_tokens(tokens, logged_in, other_client):
    """``tokens`` at web_client, and a second token response for the same person at other_client."""
    authz = authorize(logged_in, other_client, scope="openid offline_access", prompt="consent")
    response = exchange(logged_in, other_client, authz)
    assert response.status_code == 200, response.content
    return [tokens, response.json()]


def live_tokens(user) -> tuple[int, int]:
    return (
        AccessToken.objects.filter(user=user).count(),
        RefreshToken.objects.filter(user=user, revoked__isnull=True).count(),
    )


def refresh(client, app, refresh_token):
    from tests.conftest import basic_auth

    return client.post(
        "/token",
        {"grant_type": "refresh_token", "refresh_token": refresh_token},
        HTTP_AUTHORIZATION=basic_auth(app.client_id),
    )


def test_deactivating_a_person_revokes_all_their_tokens_once(client, user, web_client, two_clients_tokens):
    assert live_tokens(user) == (2, 2)
    user.is_active = False
    user.save()
    assert live_tokens(user) == (0, 0)
    assert refresh(client, web_client, two_clients_tokens[0]["refresh_token"]).status_code == 400
    (event,) = AuditEvent.objects.filter(event="user_deactivated")
    assert event.details == {"user": "alice", "revoked": 4}
    user.save()  # already inactive: nothing more to revoke or record
    assert AuditEvent.objects.filter(event="user_deactivated").count() == 1


def test_deactivating_in_the_admin_revokes_and_names_the_operator(user, two_clients_tokens):
    operator = Client()
    operator.force_login(UserFactory(username="operator", is_staff=True, is_superuser=True))
    page = operator.get(f"/admin/accounts/user/{user.pk}/change/")
    data = admin_form_data(page, is_active=False)
    response = operator.post(f"/admin/accounts/user/{user.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    user.refresh_from_db()
    assert not user.is_active and live_tokens(user) == (0, 0)
    (event,) = AuditEvent.objects.filter(event="user_deactivated")
    assert (event.actor_name, event.details["user"]) == ("operator", "alice")


def test_other_changes_to_a_person_keep_their_tokens(user, two_clients_tokens):
    user.first_name = "Alicia"
    user.save()
    user.save(update_fields=["last_login"])
    assert live_tokens(user) == (2, 2)
    assert not AuditEvent.objects.filter(event__in=["user_deactivated", "password_changed"]).exists()


def test_a_password_change_revokes_the_persons_refresh_tokens(client, user, web_client, two_clients_tokens):
    user.set_password(NEW_PASSWORD)
    user.save()
    assert RefreshToken.objects.filter(user=user, revoked__isnull=True).count() == 0
    assert refresh(client, web_client, two_clients_tokens[0]["refresh_token"]).status_code == 400
    (event,) = AuditEvent.objects.filter(event="password_changed")
    assert event.details == {"user": "alice", "revoked": 2}


def test_a_password_reset_revokes_the_persons_refresh_tokens(user, web_client, two_clients_tokens):
    browser = Client()
    browser.post("/password-reset", {"email": "alice@example.com"})
    (message,) = mail.outbox
    link = re.search(r"http://127\.0\.0\.1:8000(/password-reset/\S+)", message.body).group(1)
    form_page = browser.get(link, follow=True)
    response = browser.post(
        form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response["Location"] == "/password-reset/done"
    assert RefreshToken.objects.filter(user=user, revoked__isnull=True).count() == 0
    (event,) = AuditEvent.objects.filter(event="password_changed")
    assert (event.actor_name, event.details) == ("alice", {"user": "alice", "revoked": 2})


def test_an_operator_setting_a_password_in_the_admin_revokes_refresh_tokens(user, two_clients_tokens):
    operator = Client()
    operator.force_login(UserFactory(username="operator", is_staff=True, is_superuser=True))
    response = operator.post(
        f"/admin/accounts/user/{user.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302
    assert RefreshToken.objects.filter(user=user, revoked__isnull=True).count() == 0
    (event,) = AuditEvent.objects.filter(event="password_changed")
    assert event.actor_name == "operator"


def test_upgrading_a_password_hash_at_sign_in_is_no_password_change(user, two_clients_tokens):
    """Django re-hashes an old-hasher password when it checks it: the same password, tokens kept."""
    type(user).objects.filter(pk=user.pk).update(password=make_password(PASSWORD, hasher="pbkdf2_sha256"))
    browser = Client()
    assert browser.post("/login", {"username": "alice", "password": PASSWORD}).status_code == 302
    user.refresh_from_db()
    assert user.password.startswith("argon2")
    assert live_tokens(user) == (2, 2)
    assert not AuditEvent.objects.filter(event="password_changed").exists()

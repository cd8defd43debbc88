"""Connected apps (with revoke) and the profile page."""

from datetime import timedelta

import pytest
from django.utils import timezone

from idp.models import AccessToken, Consent, RefreshToken
from tests.conftest import authorize, exchange
from tests.factories import ApplicationFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/account/apps", "/account/profile"])
def test_account_pages_need_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302 and response["Location"].startswith("/login?next=")


def test_connected_apps_lists_each_granted_client_with_scopes_and_last_use(logged_in, web_client):
    web_client.name = "Wonderland Tea"
    web_client.save()
    ApplicationFactory(name="Never asked")
    authz = authorize(logged_in, web_client, scope="openid email offline_access", prompt="consent")
    assert exchange(logged_in, web_client, authz).status_code == 200
    page = logged_in.get("/account/apps")
    (app,) = page.context["apps"]
    assert app.client.name == "Wonderland Tea"
    assert [scope.name for scope in app.scopes] == ["openid", "email", "offline_access"]
    assert app.last_used == AccessToken.objects.get().created
    html = page.content.decode()
    assert "Wonderland Tea" in html and "Never asked" not in html
    assert "Your email address" in html and "Keep access while you are away" in html


def test_connected_app_without_tokens_says_not_used(logged_in, user, web_client):
    Consent.objects.create(user=user, application=web_client, scopes="openid")
    (app,) = logged_in.get("/account/apps").context["apps"]
    assert app.last_used is None
    assert b"not since you allowed it" in logged_in.get("/account/apps").content


def test_revoke_removes_consent_and_tokens_of_that_client_only(logged_in, user, web_client, other_client):
    for app in (web_client, other_client):
        authz = authorize(logged_in, app, scope="openid offline_access", prompt="consent")
        assert exchange(logged_in, app, authz).status_code == 200
    response = logged_in.post(f"/account/apps/{web_client.pk}/revoke", follow=True)
    assert response.redirect_chain == [("/account/apps", 302)]
    assert b"can no longer access your account" in response.content
    assert list(Consent.objects.values_list("application", flat=True)) == [other_client.pk]
    assert not AccessToken.objects.filter(application=web_client).exists()
    assert RefreshToken.objects.get(application=web_client).revoked is not None
    assert AccessToken.objects.filter(application=other_client).exists()
    assert RefreshToken.objects.get(application=other_client).revoked is None


def test_revoke_needs_post_and_only_touches_the_signed_in_user(logged_in, web_client):
    bob = UserFactory(username="bob")
    Consent.objects.create(user=bob, application=web_client, scopes="openid")
    assert logged_in.get(f"/account/apps/{web_client.pk}/revoke").status_code == 405
    logged_in.post(f"/account/apps/{web_client.pk}/revoke")
    assert Consent.objects.filter(user=bob).exists()


def test_profile_shows_the_claims_apps_can_receive(logged_in):
    html = logged_in.get("/account/profile").content.decode()
    assert "<dt>Email address</dt><dd>alice@example.com (verified)</dd>" in html
    assert "<dt>Name</dt><dd>Alice Liddell</dd>" in html
    assert "<dt>Phone number</dt><dd>+441234567890 (verified)</dd>" in html


def test_consent_updated_time_changes_when_scopes_are_added(logged_in, user, web_client):
    Consent.objects.create(user=user, application=web_client, scopes="openid")
    Consent.objects.filter(user=user).update(created=timezone.now() - timedelta(days=2))
    (app,) = logged_in.get("/account/apps").context["apps"]
    assert app.granted < app.changed

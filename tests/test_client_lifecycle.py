"""The client lifecycle (idp.clients.lifecycle): update_client, and the admin and the import alike."""

import pytest
from django.core.exceptions import ValidationError
from django.forms.models import model_to_dict
from django.test import Client

from idp.client_import import apply_client_specs
from idp.clients import update_client
from idp.models import AccessToken, Application, AuditEvent, RefreshToken
from tests.conftest import admin_form_data, basic_auth
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(db):
    """A browser of its own, signed in as a superuser (``client`` may belong to alice)."""
    browser = Client()
    browser.force_login(UserFactory(username="operator", is_staff=True, is_superuser=True))
    return browser


def events(client, *, after: int = 0) -> list[tuple[str, dict]]:
    """``client``'s audit events (after the one ``after``), oldest first, without the detail naming
    the entry point."""
    rows = AuditEvent.objects.filter(client=client, pk__gt=after).order_by("pk")
    return [(e.event, {k: v for k, v in e.details.items() if k != "via"}) for e in rows]


def stored(client_id: str) -> dict:
    """A client's row as its settings: what must not depend on whether the admin or a file made it."""
    row = model_to_dict(Application.objects.get(client_id=client_id))
    for name in ("id", "client_id", "client_secret", "user"):
        row.pop(name, None)
    return row


def test_update_client_saves_the_changed_fields_and_records_them_once(web_client):
    changed = update_client(web_client, name="Renamed", redirect_uris=["https://rp.example.com/new"])
    assert changed == ["redirect_uris", "name"]
    web_client.refresh_from_db()
    assert (web_client.name, web_client.redirect_uris) == ("Renamed", "https://rp.example.com/new")
    assert events(web_client) == [("client_changed", {"fields": ["redirect_uris", "name"]})]


def test_update_client_without_a_change_saves_and_records_nothing(web_client):
    stamp = web_client.updated
    assert update_client(web_client, name=web_client.name, redirect_uris=web_client.redirect_uris) == []
    web_client.refresh_from_db()
    assert web_client.updated == stamp
    assert not AuditEvent.objects.exists()


def test_update_client_disabling_revokes_every_token_and_records_only_that(client, tokens, web_client):
    last = AuditEvent.objects.latest("pk").pk  # signing in, consenting, getting the tokens
    assert update_client(web_client, is_active=False) == ["is_active"]
    web_client.refresh_from_db()
    assert not web_client.is_active
    assert not AccessToken.objects.filter(application=web_client).exists()
    assert not RefreshToken.objects.filter(application=web_client, revoked__isnull=True).exists()
    assert client.get("/userinfo", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}").status_code == 401
    ((event, details),) = events(web_client, after=last)
    assert event == "client_disabled" and details["revoked"] >= 2


def test_update_client_checks_the_untouched_settings_against_a_new_kind(web_client):
    with pytest.raises(ValidationError) as exc:
        update_client(web_client, kind="service")  # a service registers no redirect URIs
    assert "redirect_uris" in exc.value.message_dict
    web_client.refresh_from_db()
    assert web_client.kind == "web" and not AuditEvent.objects.exists()


def test_update_client_refuses_an_invalid_value_without_saving_anything(web_client):
    with pytest.raises(ValidationError, match="loopback"):
        update_client(web_client, name="Renamed", redirect_uris="http://rp.example.com/cb")
    web_client.refresh_from_db()
    assert web_client.name != "Renamed" and not AuditEvent.objects.exists()


@pytest.mark.parametrize("field", ["client_type", "client_secret_hash", "nmae"])
def test_update_client_refuses_fields_it_does_not_set_directly(web_client, field):
    with pytest.raises(TypeError, match=field):
        update_client(web_client, **{field: "x"})


def test_a_public_client_gets_no_secret_through_update_client(public_client):
    with pytest.raises(ValidationError, match="public"):
        update_client(public_client, client_secret="x" * 40)


SPEC = {
    "kind": "web",
    "name": "Shop",
    "redirect_uris": ["https://shop.example.com/callback"],
    "post_logout_redirect_uris": ["https://shop.example.com/bye"],
    "allowed_scopes": ["openid", "email"],
    "first_party": True,
    "logo_uri": "https://shop.example.com/logo.png",
    "access_token_lifetime": 600,
}


def test_adding_in_the_admin_and_importing_make_the_same_client(operator):
    apply_client_specs([{**SPEC, "client_id": "imported"}])
    form = {
        "name": "Shop",
        "client_id": "added",
        "redirect_uris": "https://shop.example.com/callback",
        "post_logout_redirect_uris": "https://shop.example.com/bye",
        "allowed_scopes": ["openid", "email"],
        "skip_authorization": "on",
        "logo_uri": "shop.example.com/logo.png",  # typed without a scheme: https is assumed
        "access_token_lifetime": "600",
    }
    response = operator.post("/admin/idp/application/add/?kind=web", form)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert stored("added") == stored("imported")
    imported, added = (Application.objects.get(client_id=c) for c in ("imported", "added"))
    assert events(added) == events(imported) == [("client_created", {"kind": "web"})]


def test_changing_in_the_admin_and_importing_change_the_client_alike(operator):
    """Both clients start from the same file; one is then changed in the admin, the other by the file."""
    apply_client_specs([{**SPEC, "client_id": "by-admin"}, {**SPEC, "client_id": "by-file"}])
    by_admin = Application.objects.get(client_id="by-admin")
    url = f"/admin/idp/application/{by_admin.pk}/change/"
    data = admin_form_data(
        operator.get(url),
        name="Shop (renamed)",
        redirect_uris="https://shop.example.com/callback https://shop.example.com/callback2",
        is_active=False,
    )
    response = operator.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    changed = {
        **SPEC,
        "client_id": "by-file",
        "name": "Shop (renamed)",
        "redirect_uris": [*SPEC["redirect_uris"], "https://shop.example.com/callback2"],
        "is_active": False,
    }
    (result,) = apply_client_specs([changed])
    assert result.changed == ["redirect_uris", "name", "is_active"]
    assert stored("by-admin") == stored("by-file")
    by_file = Application.objects.get(client_id="by-file")
    assert (
        events(by_admin)
        == events(by_file)
        == [
            ("client_created", {"kind": "web"}),
            ("client_changed", {"fields": ["redirect_uris", "name"]}),
            ("client_disabled", {"revoked": 0}),
        ]
    )
    assert AuditEvent.objects.get(client=by_file, event="client_changed").details["via"] == "import"
    assert AuditEvent.objects.get(client=by_admin, event="client_changed").actor_name == "operator"


def test_a_public_client_made_confidential_must_be_given_a_secret(client):
    """Left with the hash of nothing, it would authenticate with an empty secret."""
    spec = {"client_id": "flip", "kind": "spa", "redirect_uris": ["https://app.example.com/cb"]}
    apply_client_specs([spec])
    with pytest.raises(ValidationError, match="flip: a web client needs a secret"):
        apply_client_specs([{**spec, "kind": "web"}])
    assert Application.objects.get(client_id="flip").kind == "spa"
    secret = "a-long-random-secret-for-the-flipped-client"
    (result,) = apply_client_specs([{**spec, "kind": "web", "client_secret": secret}])
    assert result.changed == ["client_type", "secret", "kind"]
    introspect = {"token": "not-a-token"}
    assert (
        client.post("/introspect", introspect, HTTP_AUTHORIZATION=basic_auth("flip", "")).status_code == 401
    )
    assert (
        client.post("/introspect", introspect, HTTP_AUTHORIZATION=basic_auth("flip", secret)).status_code
        == 200
    )


# --- found by the review of the lifecycle: secrets and tokens across a change -----------------------


def test_a_confidential_client_is_never_stored_with_the_hash_of_an_empty_secret(client):
    """A file's client_secret_hash of "" would let the client authenticate with its client_id alone."""
    from django.contrib.auth.hashers import make_password

    empty = make_password("")
    spec = {"client_id": "svc", "kind": "service", "name": "svc", "client_secret_hash": empty}
    with pytest.raises(ValidationError, match="hash of an empty secret"):
        apply_client_specs([spec])
    assert not Application.objects.filter(client_id="svc").exists()
    response = client.post("/token", {"grant_type": "client_credentials", "client_id": "svc"})
    assert response.status_code == 400 and response.json()["error"] == "invalid_client"
    spa = {"client_id": "app", "kind": "spa", "redirect_uris": ["https://app.example.com/cb"]}
    apply_client_specs([spa])
    with pytest.raises(ValidationError, match="hash of an empty secret"):
        apply_client_specs([{**spa, "kind": "web", "client_secret_hash": empty}])
    with pytest.raises(ValidationError, match="app: a web client needs a secret"):
        update_client(Application.objects.get(client_id="app"), kind="web", client_secret=empty)


def test_a_change_of_kind_revokes_the_tokens_issued_under_the_old_one(client, tokens, web_client):
    """A web client's refresh token needs its secret; made public, it must not work with client_id alone."""
    last = AuditEvent.objects.latest("pk").pk
    changed = update_client(web_client, kind="spa", allowed_origins=[])
    assert "kind" in changed and "secret" in changed
    ((event, details),) = events(web_client, after=last)
    assert event == "client_changed" and details["revoked"] >= 2
    response = client.post(
        "/token",
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": "web-client"},
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    assert client.get("/userinfo", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}").status_code == 401


def test_a_replaced_secret_ends_the_previous_secrets_grace_period(client, web_client):
    """Replacing a leaked secret through the import stops the one before the last rotation too."""
    from idp.clients import rotate_client_secret

    first = rotate_client_secret(web_client, grace_seconds=3600)
    rotate_client_secret(web_client, grace_seconds=3600)  # ``first`` is the previous secret now
    introspect = {"token": "not-a-token"}
    auth = basic_auth(web_client.client_id, first)
    assert client.post("/introspect", introspect, HTTP_AUTHORIZATION=auth).status_code == 200
    new = "a-long-random-secret-replacing-the-leaked-one"
    assert update_client(web_client, client_secret=new) == ["secret"]
    web_client.refresh_from_db()
    assert (web_client.previous_client_secret, web_client.previous_client_secret_expires) == ("", None)
    assert client.post("/introspect", introspect, HTTP_AUTHORIZATION=auth).status_code == 401
    new_auth = basic_auth(web_client.client_id, new)
    assert client.post("/introspect", introspect, HTTP_AUTHORIZATION=new_auth).status_code == 200

"""Client management through the admin: by kind, validated, secrets shown once, rotation, disabling."""

from datetime import timedelta

import pytest
from django.contrib.auth.hashers import check_password
from django.test import Client
from django.utils import timezone

from idp.admin import ONE_TIME_SECRET
from idp.claims import SCOPES
from idp.models import AccessToken, Application, AuditEvent, Consent, RefreshToken
from tests.conftest import basic_auth
from tests.factories import ApplicationFactory, ServiceClientFactory, UserFactory

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/idp/application/add/"

KIND_DATA = {
    "web": {
        "redirect_uris": "https://rp.example.com/callback\nhttp://127.0.0.1:8765/callback",
        "post_logout_redirect_uris": "https://rp.example.com/logged-out",
        "allowed_scopes": ["openid", "profile", "email"],
    },
    "spa": {
        "redirect_uris": "https://app.example.com/callback",
        "allowed_origins": "https://app.example.com",
        "allowed_scopes": ["openid"],
    },
    "native": {
        "redirect_uris": "com.example.app:/callback\nhttp://127.0.0.1/callback",
        "allowed_scopes": ["openid", "offline_access"],
    },
    "service": {},
    "device": {"allowed_scopes": ["openid", "profile", "offline_access"]},
    "device-secret": {"allowed_scopes": ["openid"]},
}


@pytest.fixture
def operator(db):
    """A browser of its own, signed in as a superuser (``client`` may belong to alice)."""
    browser = Client()
    browser.force_login(UserFactory(username="operator", is_staff=True, is_superuser=True))
    return browser


def add_client(operator, kind, **overrides):
    data = {"name": f"A {kind} client", "client_id": f"my-{kind}", **KIND_DATA[kind], **overrides}
    return operator.post(f"{ADD_URL}?kind={kind}", data)


def change_url(app) -> str:
    return f"/admin/idp/application/{app.pk}/change/"


def client_credentials(client, client_id, secret):
    return client.post(
        "/token", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=basic_auth(client_id, secret)
    )


def test_adding_starts_by_choosing_a_kind(operator):
    page = operator.get(ADD_URL)
    assert page.status_code == 200
    for kind in ("web", "spa", "native", "service", "device", "device-secret"):
        assert f'href="?kind={kind}"' in page.content.decode()


@pytest.mark.parametrize(
    ("kind", "shown", "hidden"),
    [
        (
            "web",
            {"redirect_uris", "allowed_scopes", "allow_nonce_instead_of_pkce", "algorithm"},
            {"allowed_origins"},
        ),
        ("spa", {"redirect_uris", "allowed_origins"}, {"is_resource_server", "allow_nonce_instead_of_pkce"}),
        ("native", {"redirect_uris", "skip_authorization"}, {"allowed_origins", "is_resource_server"}),
        (
            "service",
            {"access_token_lifetime", "is_resource_server"},
            {"redirect_uris", "allowed_scopes", "algorithm"},
        ),
        # A device's consent page is never skipped: no skip_authorization (RFC 8628 §5.4).
        (
            "device",
            {"allowed_scopes", "logo_uri"},
            {"redirect_uris", "skip_authorization", "allowed_origins"},
        ),
        ("device-secret", {"allowed_scopes", "is_resource_server"}, {"redirect_uris", "skip_authorization"}),
    ],
)
def test_add_form_shows_only_the_fields_of_the_kind(operator, kind, shown, hidden):
    form = operator.get(f"{ADD_URL}?kind={kind}").context["adminform"].form
    assert shown <= set(form.fields)
    assert not hidden & set(form.fields)
    # The ID token algorithm (id_token_signed_response_alg) is shown to clients that sign people in.
    assert {"client_type", "authorization_grant_type", "client_secret"}.isdisjoint(form.fields)


@pytest.mark.parametrize(
    ("kind", "grant_type", "client_type"),
    [
        ("web", "authorization-code", "confidential"),
        ("spa", "authorization-code", "public"),
        ("native", "authorization-code", "public"),
        ("service", "client-credentials", "confidential"),
        ("device", "urn:ietf:params:oauth:grant-type:device_code", "public"),
        ("device-secret", "urn:ietf:params:oauth:grant-type:device_code", "confidential"),
    ],
)
def test_creating_each_kind_sets_grant_and_client_type(operator, kind, grant_type, client_type):
    response = add_client(operator, kind)
    app = Application.objects.get(client_id=f"my-{kind}")
    assert response.status_code == 302 and response["Location"] == change_url(app)
    assert (app.kind, app.authorization_grant_type, app.client_type) == (kind, grant_type, client_type)
    assert app.algorithm == "RS256" and app.hash_client_secret
    event = AuditEvent.objects.get(event="client_created")
    assert (event.client, event.actor_name, event.details) == (app, "operator", {"kind": kind})


def test_created_uris_are_stored_exactly(operator):
    add_client(operator, "native")
    app = Application.objects.get(client_id="my-native")
    assert app.redirect_uris.split() == ["com.example.app:/callback", "http://127.0.0.1/callback"]
    assert app.allowed_scopes == "openid offline_access"


def test_secret_is_shown_once_and_stored_only_hashed(client, operator):
    add_client(operator, "service")
    app = Application.objects.get(client_id="my-service")
    page = operator.get(change_url(app))
    secret = page.context["one_time_secret"]
    assert len(secret) >= 43  # 256 bits or more, URL-safe base64
    assert secret in page.content.decode() and "no-store" in page["Cache-Control"]
    assert app.client_secret.startswith("idp_client_secret$") and check_password(secret, app.client_secret)
    assert ONE_TIME_SECRET not in operator.session
    again = operator.get(change_url(app))
    assert secret not in again.content.decode() and again.context["one_time_secret"] is None
    assert client_credentials(client, "my-service", secret).status_code == 200


def test_public_clients_get_no_secret(operator):
    add_client(operator, "spa")
    page = operator.get(change_url(Application.objects.get(client_id="my-spa")))
    assert page.context["one_time_secret"] is None
    assert "Rotate secret" not in page.content.decode()


def test_integration_panel_has_discovery_url_and_client_id(operator):
    add_client(operator, "web")
    body = operator.get(change_url(Application.objects.get(client_id="my-web"))).content.decode()
    assert "http://127.0.0.1:8000/.well-known/openid-configuration" in body
    assert "&quot;client_id&quot;: &quot;my-web&quot;" in body
    assert "&quot;redirect_uri&quot;: &quot;https://rp.example.com/callback&quot;" in body


@pytest.mark.parametrize(
    ("kind", "field", "value", "message"),
    [
        ("web", "redirect_uris", "http://rp.example.com/cb", "http is allowed only on loopback"),
        ("web", "redirect_uris", "https://rp.example.com/cb#top", "must not contain a fragment"),
        ("web", "redirect_uris", "https://*.example.com/cb", "wildcards are not allowed"),
        ("web", "redirect_uris", "/callback", "must be an absolute URI"),
        ("web", "redirect_uris", "com.example.app:/cb", "for native apps only"),
        ("web", "redirect_uris", "", "Register at least one redirect URI"),
        ("native", "redirect_uris", "javascript:alert(1)", "reverse-domain scheme"),
        ("web", "post_logout_redirect_uris", "http://rp.example.com/bye", "http is allowed only on loopback"),
        ("spa", "allowed_origins", "https://app.example.com/", "without a path"),
        ("spa", "allowed_origins", "http://app.example.com", "http is allowed only for loopback"),
        ("web", "allowed_scopes", [], "Choose at least one scope"),
        ("service", "access_token_lifetime", "60", "between 300 and 86400"),
        ("web", "access_token_lifetime", "100000", "between 300 and 86400"),
    ],
)
def test_invalid_settings_are_refused_with_a_clear_message(operator, kind, field, value, message):
    response = add_client(operator, kind, **{field: value})
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert message in " ".join(errors[field]), errors
    assert not Application.objects.filter(client_id=f"my-{kind}").exists()


def test_rotation_shows_the_new_secret_once_and_retires_the_old_one(client, operator):
    app = ServiceClientFactory(client_id="svc")
    old = "a-test-client-secret-that-is-long-and-random-enough-0123456789"
    page = operator.get(f"/admin/idp/application/{app.pk}/rotate-secret/")
    assert page.status_code == 200
    response = operator.post(f"/admin/idp/application/{app.pk}/rotate-secret/", {"grace_period": "0"})
    assert response["Location"] == change_url(app)
    new = operator.get(change_url(app)).context["one_time_secret"]
    assert new and new != old
    assert new not in operator.get(change_url(app)).content.decode()
    assert client_credentials(client, "svc", old).status_code == 401
    assert client_credentials(client, "svc", new).status_code == 200
    event = AuditEvent.objects.get(event="client_secret_rotated")
    assert event.details == {"grace_seconds": 0} and new not in str(event.details)


def test_previous_secret_works_during_the_grace_period_only(client, operator):
    app = ServiceClientFactory(client_id="svc")
    old = "a-test-client-secret-that-is-long-and-random-enough-0123456789"
    operator.post(f"/admin/idp/application/{app.pk}/rotate-secret/", {"grace_period": "3600"})
    new = operator.get(change_url(app)).context["one_time_secret"]
    assert client_credentials(client, "svc", old).status_code == 200
    assert client_credentials(client, "svc", new).status_code == 200
    body = client.post(
        "/token", {"grant_type": "client_credentials", "client_id": "svc", "client_secret": old}
    )
    assert body.status_code == 200  # client_secret_post too
    Application.objects.filter(pk=app.pk).update(previous_client_secret_expires=timezone.now() - timedelta(1))
    assert client_credentials(client, "svc", old).status_code == 401
    assert client_credentials(client, "svc", new).status_code == 200


def test_public_client_secret_cannot_be_rotated(operator):
    add_client(operator, "spa")
    app = Application.objects.get(client_id="my-spa")
    operator.post(f"/admin/idp/application/{app.pk}/rotate-secret/", {"grace_period": "0"})
    assert not AuditEvent.objects.filter(event="client_secret_rotated").exists()


def change_data(app, **changes):
    data = {
        "name": app.name,
        "redirect_uris": app.redirect_uris,
        "post_logout_redirect_uris": app.post_logout_redirect_uris,
        "allowed_scopes": app.allowed_scopes.split() or list(SCOPES),
        "is_active": "on" if app.is_active else "",
        "access_token_lifetime": app.access_token_lifetime or "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value != ""}


def test_disabling_in_the_admin_revokes_the_clients_tokens(operator, tokens, web_client):
    assert AccessToken.objects.filter(application=web_client).exists()
    response = operator.post(change_url(web_client), change_data(web_client, is_active=""))
    assert response.status_code == 302, response.context["adminform"].form.errors
    web_client.refresh_from_db()
    assert not web_client.is_active
    assert not AccessToken.objects.filter(application=web_client).exists()
    assert not RefreshToken.objects.filter(application=web_client, revoked__isnull=True).exists()
    assert operator.get("/userinfo", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}").status_code == 401
    event = AuditEvent.objects.get(event="client_disabled")
    assert event.client == web_client and event.details["revoked"] >= 2


def test_disable_action_revokes_and_enable_action_restores(operator, tokens, web_client):
    operator.post(
        "/admin/idp/application/", {"action": "disable_clients", "_selected_action": [web_client.pk]}
    )
    web_client.refresh_from_db()
    assert not web_client.is_active and not AccessToken.objects.filter(application=web_client).exists()
    operator.post(
        "/admin/idp/application/", {"action": "enable_clients", "_selected_action": [web_client.pk]}
    )
    web_client.refresh_from_db()
    assert web_client.is_active
    assert list(AuditEvent.objects.filter(client=web_client).values_list("event", flat=True)[:2]) == [
        "client_enabled",
        "client_disabled",
    ]


def test_changes_are_recorded_with_the_changed_fields(operator, web_client):
    operator.post(change_url(web_client), change_data(web_client, name="Renamed"))
    event = AuditEvent.objects.get(event="client_changed")
    assert event.details == {"fields": ["name"]} and event.actor_name == "operator"


def test_client_list_counts_consents_and_active_tokens(operator, tokens, web_client):
    page = operator.get("/admin/idp/application/")
    row = next(r for r in page.context["cl"].result_list if r.pk == web_client.pk)
    assert (row.consent_count, row.active_token_count) == (1, 1)


def test_consents_can_be_revoked_by_an_operator(operator, tokens, web_client, user):
    consent = Consent.objects.get(user=user, application=web_client)
    page = operator.get("/admin/idp/consent/", {"q": "alice"})
    assert consent in page.context["cl"].result_list
    operator.post("/admin/idp/consent/", {"action": "revoke", "_selected_action": [consent.pk]})
    assert not Consent.objects.exists() and not AccessToken.objects.filter(user=user).exists()
    event = AuditEvent.objects.get(event="consent_revoked")
    assert (event.actor_name, event.details["user"]) == ("operator", "alice")


def test_tokens_are_filterable_by_person_and_client_and_revocable(operator, tokens, web_client, user):
    other = ApplicationFactory(client_id="unrelated")
    page = operator.get("/admin/idp/accesstoken/", {"application__id__exact": other.pk})
    assert list(page.context["cl"].result_list) == []
    page = operator.get("/admin/idp/accesstoken/", {"user__id__exact": user.pk})
    (token,) = page.context["cl"].result_list
    assert tokens["access_token"] not in page.content.decode()
    operator.post("/admin/idp/accesstoken/", {"action": "revoke_tokens", "_selected_action": [token.pk]})
    assert not AccessToken.objects.exists()
    assert AuditEvent.objects.get(event="token_revoked").details["via"] == "admin"
    operator.get("/admin/idp/refreshtoken/", {"user__id__exact": user.pk, "q": "web-client"})
    operator.get("/admin/idp/grant/", {"user__id__exact": user.pk})


def test_audit_log_is_read_only_in_the_admin(operator, web_client):
    operator.post(change_url(web_client), change_data(web_client, name="Renamed"))
    event = AuditEvent.objects.get(event="client_changed")
    assert operator.get("/admin/idp/auditevent/", {"event__exact": "client_changed"}).status_code == 200
    assert operator.get(f"/admin/idp/auditevent/{event.pk}/change/").status_code == 200
    assert operator.post(f"/admin/idp/auditevent/{event.pk}/change/", {"event": "sign_in"}).status_code == 403
    assert operator.get(f"/admin/idp/auditevent/{event.pk}/delete/").status_code == 403
    assert operator.get("/admin/idp/auditevent/add/").status_code == 403


@pytest.fixture
def viewer(db):
    """A browser signed in as staff who may only view clients, tokens, codes and consents."""
    from django.contrib.auth.models import Permission

    person = UserFactory(username="viewer", is_staff=True)
    models = ["application", "accesstoken", "refreshtoken", "grant", "consent"]
    person.user_permissions.set(
        Permission.objects.filter(content_type__app_label="idp", codename__in=[f"view_{m}" for m in models])
    )
    browser = Client()
    browser.force_login(person)
    return browser


def admin_state() -> tuple:
    """What the admin's actions could change: clients, live tokens, codes, consents, audit events."""
    from idp.models import Grant

    return (
        list(Application.objects.order_by("pk").values_list("is_active", "client_secret")),
        AccessToken.objects.count(),
        RefreshToken.objects.filter(revoked__isnull=True).count(),
        Grant.objects.count(),
        Consent.objects.count(),
        AuditEvent.objects.count(),
    )


@pytest.mark.parametrize(
    ("changelist", "action"),
    [
        ("application", "disable_clients"),
        ("application", "enable_clients"),
        ("application", "rotate_secret"),
        ("accesstoken", "revoke_tokens"),
        ("refreshtoken", "revoke_tokens"),
        ("grant", "revoke_codes"),
        ("consent", "revoke"),
    ],
)
def test_view_only_staff_cannot_run_actions(viewer, tokens, web_client, user, changelist, action):
    from idp.models import Grant

    Grant.objects.create(
        user=user, application=web_client, code="a-code", expires=timezone.now() + timedelta(60),
        redirect_uri="https://rp.example.com/callback", scope="openid",
    )  # fmt: skip
    if action == "enable_clients":
        Application.objects.filter(pk=web_client.pk).update(is_active=False)
    model = {
        "application": Application, "accesstoken": AccessToken, "refreshtoken": RefreshToken,
        "grant": Grant, "consent": Consent,
    }[changelist]  # fmt: skip
    page = viewer.get(f"/admin/idp/{changelist}/")
    assert page.status_code == 200
    action_form = page.context["action_form"]
    assert action_form is None or action not in dict(action_form.fields["action"].choices)
    before = admin_state()
    pks = list(model.objects.values_list("pk", flat=True))
    viewer.post(f"/admin/idp/{changelist}/", {"action": action, "_selected_action": pks})
    assert admin_state() == before


def test_view_only_staff_cannot_rotate_a_secret(viewer):
    app = ServiceClientFactory(client_id="svc")
    secret = app.client_secret
    assert viewer.get(f"/admin/idp/application/{app.pk}/rotate-secret/").status_code == 403
    response = viewer.post(f"/admin/idp/application/{app.pk}/rotate-secret/", {"grace_period": "0"})
    assert response.status_code == 403
    app.refresh_from_db()
    assert app.client_secret == secret
    assert not AuditEvent.objects.filter(event="client_secret_rotated").exists()


@pytest.mark.parametrize("object_id", ["abc", "1%00", "999999"])
def test_rotate_secret_of_a_malformed_or_unknown_id_is_404(operator, object_id):
    assert operator.get(f"/admin/idp/application/{object_id}/rotate-secret/").status_code == 404


def session_and_cache_hold(browser, secret: str) -> list[str]:
    """Where ``secret`` is still stored: the session (as saved) and the default cache."""
    from django.core.cache import cache

    places = []
    if secret in str(dict(browser.session.items())):
        places.append("session")
    if any(secret in str(value) for value in getattr(cache, "_cache", {}).values()):
        places.append("cache")  # the local-memory cache of the tests stores pickles; str() finds text
    return places


def test_new_secret_never_sits_in_the_session_and_is_shown_once(operator):
    response = add_client(operator, "service")
    app = Application.objects.get(client_id="my-service")
    held = operator.session[ONE_TIME_SECRET]
    page = operator.get(response["Location"])
    secret = page.context["one_time_secret"]
    assert secret and secret not in str(held)
    assert operator.session.get(ONE_TIME_SECRET) is None
    assert session_and_cache_hold(operator, secret) == []
    assert operator.get(change_url(app)).context["one_time_secret"] is None


def test_rotated_secret_never_sits_in_the_session_and_is_shown_once(operator):
    app = ServiceClientFactory(client_id="svc")
    operator.post(f"/admin/idp/application/{app.pk}/rotate-secret/", {"grace_period": "0"})
    session_before_showing = str(dict(operator.session.items()))
    new = operator.get(change_url(app)).context["one_time_secret"]
    assert new and new not in session_before_showing
    assert session_and_cache_hold(operator, new) == []
    assert operator.get(change_url(app)).context["one_time_secret"] is None


def test_an_expired_one_time_secret_says_so_instead_of_showing_nothing(operator):
    from django.core.cache import cache

    add_client(operator, "service")
    app = Application.objects.get(client_id="my-service")
    cache.clear()  # the minutes have passed (or another process without a shared cache took the POST)
    page = operator.get(change_url(app))
    assert page.context["one_time_secret"] is None
    assert "can no longer be shown" in page.content.decode()
    assert operator.session.get(ONE_TIME_SECRET) is None

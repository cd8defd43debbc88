"""Client validation rules, per-client token lifetimes and first-party clients."""

import pytest
from django.core.exceptions import ValidationError

from idp.clients import (
    clean_access_token_lifetime,
    clean_allowed_origins,
    clean_allowed_scopes,
    clean_redirect_uris,
    create_client,
    redirect_uri_problem,
)
from idp.models import AccessToken
from tests.conftest import authorize, authorize_params, basic_auth, exchange, pkce_pair, query_of
from tests.factories import ApplicationFactory, ServiceClientFactory


@pytest.mark.parametrize(
    ("uri", "kind"),
    [
        ("https://rp.example.com/cb?x=1", "web"),
        ("http://127.0.0.1:8765/cb", "web"),
        ("http://[::1]/cb", "native"),
        ("http://localhost:3000/cb", "spa"),
        ("com.example.app:/oauth2redirect", "native"),
        ("https://app.example.com/cb", "native"),
    ],
)
def test_acceptable_redirect_uris(uri, kind):
    assert redirect_uri_problem(uri, kind=kind) is None


@pytest.mark.parametrize(
    ("uri", "kind"),
    [
        ("http://rp.example.com/cb", "web"),
        ("https://rp.example.com/cb#frag", "web"),
        ("https://*.example.com/cb", "web"),
        ("https://user:pw@rp.example.com/cb", "web"),
        ("rp.example.com/cb", "web"),
        ("https:///cb", "web"),
        ("com.example.app:/cb", "spa"),
        ("myapp:/cb", "native"),
        ("javascript:alert(1)", "native"),
        ("data:text/html,hi", "native"),
    ],
)
def test_refused_redirect_uris(uri, kind):
    assert redirect_uri_problem(uri, kind=kind)


def test_every_bad_uri_is_reported_at_once():
    with pytest.raises(ValidationError) as exc:
        clean_redirect_uris("http://a.example/cb https://ok.example/cb https://b.example/#x", kind="web")
    assert len(exc.value.messages) == 2


def test_services_register_no_redirects_and_no_person_scopes():
    with pytest.raises(ValidationError, match="no browser redirects"):
        clean_redirect_uris(["https://a.example/cb"], kind="service")
    with pytest.raises(ValidationError, match="acts for itself"):
        clean_allowed_scopes("openid", kind="service")


def test_origins_are_bare_and_only_for_single_page_apps():
    assert clean_allowed_origins("https://app.example.com http://127.0.0.1:8765", kind="spa") == [
        "https://app.example.com",
        "http://127.0.0.1:8765",
    ]
    for origin in ("https://app.example.com/", "https://app.example.com/x", "https://*.example.com"):
        with pytest.raises(ValidationError):
            clean_allowed_origins(origin, kind="spa")
    with pytest.raises(ValidationError, match="Only single-page apps"):
        clean_allowed_origins("https://app.example.com", kind="web")


def test_unknown_scopes_are_named():
    with pytest.raises(ValidationError, match="emial"):
        clean_allowed_scopes("openid emial", kind="web")


def test_access_token_lifetime_bounds():
    assert clean_access_token_lifetime(None) is None
    assert clean_access_token_lifetime("300") == 300
    for value in (299, 86401, "soon"):
        with pytest.raises(ValidationError):
            clean_access_token_lifetime(value)


@pytest.mark.django_db
def test_created_secret_has_at_least_256_bits_and_is_stored_hashed():
    client, secret = create_client(kind="web", name="RP", redirect_uris=["https://rp.example.com/cb"])
    assert len(secret) >= 43 and secret not in client.client_secret
    assert client.client_secret.startswith("idp_client_secret$")
    public, none = create_client(kind="native", name="CLI", redirect_uris=["http://127.0.0.1/cb"])
    assert none is None and public.client_type == "public"


@pytest.mark.django_db
def test_create_client_refuses_a_taken_client_id():
    ApplicationFactory(client_id="taken")
    with pytest.raises(ValidationError):
        create_client(kind="service", name="Dup", client_id="taken")


@pytest.mark.django_db
def test_token_endpoint_honours_the_clients_access_token_lifetime(client, logged_in):
    service = ServiceClientFactory(client_id="svc", access_token_lifetime=600)
    body = client.post(
        "/token", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=basic_auth("svc")
    ).json()
    assert body["expires_in"] == 600
    token = AccessToken.objects.get(application=service)
    assert 590 <= (token.expires - token.created).total_seconds() <= 610
    web = ApplicationFactory(client_id="short", access_token_lifetime=300)
    assert exchange(logged_in, web, authorize(logged_in, web)).json()["expires_in"] == 300
    default = ApplicationFactory(client_id="default")
    assert exchange(logged_in, default, authorize(logged_in, default)).json()["expires_in"] == 3600


@pytest.mark.django_db
def test_first_party_client_skips_the_consent_page(logged_in):
    app = ApplicationFactory(client_id="first-party", skip_authorization=True)
    response = logged_in.get("/authorize", authorize_params(app, challenge=pkce_pair()[1]))
    assert response.status_code == 302 and "code" in query_of(response["Location"])
    third = ApplicationFactory(client_id="third-party")
    assert logged_in.get("/authorize", authorize_params(third, challenge=pkce_pair()[1])).status_code == 200

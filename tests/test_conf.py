"""idp.conf: IDP read per access, DOT's settings the one source of what DOT has, and the DOT dict builder."""

import json
from base64 import urlsafe_b64decode
from datetime import timedelta

import pytest
from django.test import override_settings
from oauth2_provider import settings as dot_settings
from oauth2_provider.settings import oauth2_settings

from idp.conf import DEFAULTS, MOVED_TO_OAUTH2_PROVIDER, idp_settings, oauth2_provider_settings
from idp.models import AccessToken, Grant
from tests.conftest import ISSUER, authorize, basic_auth, exchange
from tests.factories import ServiceClientFactory


def _claims(id_token: str) -> dict:
    payload = id_token.split(".")[1]
    return json.loads(urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


# --- IDP: what DOT lacks, read on every access ------------------------------------------------------


def test_idp_settings_are_read_on_every_access(settings):
    assert idp_settings.AUDIT_RETENTION_DAYS == 365
    settings.IDP = {**settings.IDP, "AUDIT_RETENTION_DAYS": 30}
    assert idp_settings.AUDIT_RETENTION_DAYS == 30
    with override_settings(IDP={"SITE_NAME": "Wonderland ID"}):
        assert idp_settings.SITE_NAME == "Wonderland ID"
        assert idp_settings.AUDIT_RETENTION_DAYS == 365  # absent: the documented default
    assert settings.IDP["SITE_NAME"] == idp_settings.SITE_NAME


def test_a_missing_idp_dict_means_every_default(settings):
    del settings.IDP
    assert {name: getattr(idp_settings, name) for name in DEFAULTS} == DEFAULTS


def test_an_unknown_idp_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="Unknown IDP setting: 'NOT_A_SETTING'"):
        idp_settings.NOT_A_SETTING  # noqa: B018


@pytest.mark.parametrize("name", sorted(MOVED_TO_OAUTH2_PROVIDER.keys() - {"ISSUER"}))
def test_a_moved_idp_name_is_an_attribute_error_naming_dots_setting(name):
    with pytest.raises(AttributeError, match=f"oauth2_settings.{MOVED_TO_OAUTH2_PROVIDER[name]}$"):
        getattr(idp_settings, name)


def test_idp_holds_only_what_dot_lacks():
    assert not DEFAULTS.keys() & MOVED_TO_OAUTH2_PROVIDER.keys()
    assert not DEFAULTS.keys() & dot_settings.DEFAULTS.keys()
    assert set(MOVED_TO_OAUTH2_PROVIDER.values()) <= dot_settings.DEFAULTS.keys()


def test_the_project_sets_no_moved_or_unknown_idp_key(settings):
    assert set(settings.IDP) <= DEFAULTS.keys()


# --- the issuer: OAUTH2_PROVIDER['OIDC_ISS_ENDPOINT'], read on every access --------------------------


def test_issuer_is_dots_setting_read_on_every_access(settings):
    assert idp_settings.ISSUER == oauth2_settings.OIDC_ISS_ENDPOINT == ISSUER
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": "https://id.example.com"}
    assert idp_settings.ISSUER == "https://id.example.com"
    assert idp_settings.issuer_origin == "https://id.example.com"


def test_an_issuer_in_idp_is_not_read(settings):
    settings.IDP = {**settings.IDP, "ISSUER": "https://elsewhere.example.com"}
    assert idp_settings.ISSUER == ISSUER


# --- the OAUTH2_PROVIDER builder --------------------------------------------------------------------


def test_builder_sets_only_dot_settings():
    assert set(oauth2_provider_settings()) <= dot_settings.DEFAULTS.keys()


def test_builder_applies_overrides_last():
    built = oauth2_provider_settings(
        OIDC_ISS_ENDPOINT="https://id.example.com", ACCESS_TOKEN_EXPIRE_SECONDS=600
    )
    assert built["OIDC_ISS_ENDPOINT"] == "https://id.example.com"
    assert built["ACCESS_TOKEN_EXPIRE_SECONDS"] == 600
    assert oauth2_provider_settings()["ACCESS_TOKEN_EXPIRE_SECONDS"] == 3600


def test_builder_defaults_are_oauth_2_1():
    built = oauth2_provider_settings()
    assert built["PKCE_REQUIRED"] is True
    assert built["ROTATE_REFRESH_TOKEN"] is True and built["REFRESH_TOKEN_REUSE_PROTECTION"] is True
    assert built["REFRESH_TOKEN_GRACE_PERIOD_SECONDS"] == 0
    assert built["ALLOWED_REDIRECT_URI_SCHEMES"] == ["https"] and built["ALLOW_URI_WILDCARDS"] is False
    assert all(value is True for name, value in built.items() if name.startswith("COMPLIANT_BCP_RFC9700_"))
    assert {name for name in built if name.startswith("COMPLIANT_BCP_RFC9700_")} == {
        name for name in dot_settings.DEFAULTS if name.startswith("COMPLIANT_BCP_RFC9700_")
    }
    assert built["OAUTH2_GRANT_TYPES_SUPPORTED"] == [
        "authorization_code",
        "refresh_token",
        "client_credentials",
        "urn:ietf:params:oauth:grant-type:device_code",
    ]
    assert (built["AUTHORIZATION_CODE_EXPIRE_SECONDS"], built["ACCESS_TOKEN_EXPIRE_SECONDS"]) == (60, 3600)
    assert (built["ID_TOKEN_EXPIRE_SECONDS"], built["REFRESH_TOKEN_EXPIRE_SECONDS"]) == (3600, 30 * 24 * 3600)


def test_builder_returns_fresh_lists():
    oauth2_provider_settings()["OAUTH2_GRANT_TYPES_SUPPORTED"].append("password")
    oauth2_provider_settings()["OIDC_RSA_PRIVATE_KEYS_INACTIVE"].append("pem")
    assert "password" not in oauth2_provider_settings()["OAUTH2_GRANT_TYPES_SUPPORTED"]
    assert oauth2_provider_settings()["OIDC_RSA_PRIVATE_KEYS_INACTIVE"] == []


def test_the_project_sets_the_issuer_and_keys_once_in_dots_settings(settings):
    assert settings.OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"].startswith("-----BEGIN")
    assert "ISSUER" not in settings.IDP and "SIGNING_KEY" not in settings.IDP


# --- lifetimes: override_settings applies at once (issue 14's regression) ------------------------------


@pytest.mark.django_db
def test_a_changed_access_token_lifetime_applies_to_the_server_dot_already_built(
    logged_in, web_client, settings
):
    """``override_settings`` of the lifetime used to leave ``expires_in`` at 3600: the lifetime was copied
    into the server (and, before, from ``IDP`` into DOT's settings) once. Production keeps the server."""
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "ALWAYS_RELOAD_OAUTHLIB_CORE": False}
    assert exchange(logged_in, web_client, authorize(logged_in, web_client)).json()["expires_in"] == 3600
    with override_settings(OAUTH2_PROVIDER={**settings.OAUTH2_PROVIDER, "ACCESS_TOKEN_EXPIRE_SECONDS": 600}):
        body = exchange(logged_in, web_client, authorize(logged_in, web_client)).json()
    assert body["expires_in"] == 600
    token = AccessToken.objects.latest("pk")
    assert 590 <= (token.expires - token.created).total_seconds() <= 610


@pytest.mark.django_db
def test_changed_lifetimes_apply_to_codes_id_tokens_and_service_tokens(
    logged_in, web_client, settings, client
):
    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "AUTHORIZATION_CODE_EXPIRE_SECONDS": 30,
        "ACCESS_TOKEN_EXPIRE_SECONDS": 900,
        "ID_TOKEN_EXPIRE_SECONDS": 300,
    }
    authz = authorize(logged_in, web_client)
    grant = Grant.objects.get()
    assert 25 <= (grant.expires - grant.created).total_seconds() <= 35
    body = exchange(logged_in, web_client, authz).json()
    assert body["expires_in"] == 900
    claims = _claims(body["id_token"])
    assert claims["exp"] - claims["iat"] == 300
    ServiceClientFactory(client_id="svc")
    service = client.post(
        "/token", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=basic_auth("svc")
    )
    assert service.json()["expires_in"] == 900


@pytest.mark.django_db
def test_a_clients_own_lifetime_still_wins(logged_in, settings):
    from tests.factories import ApplicationFactory

    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "ACCESS_TOKEN_EXPIRE_SECONDS": 900}
    app = ApplicationFactory(client_id="own", access_token_lifetime=300)
    assert exchange(logged_in, app, authorize(logged_in, app)).json()["expires_in"] == 300


@pytest.mark.django_db
def test_a_lifetime_set_in_idp_is_a_check_error_not_a_silent_default(logged_in, web_client):
    from idp.checks import check_idp_keys

    with override_settings(IDP={"ACCESS_TOKEN_LIFETIME": 600}):
        assert [m.id for m in check_idp_keys(None)] == ["idp.E008"]
        assert "ACCESS_TOKEN_EXPIRE_SECONDS" in check_idp_keys(None)[0].hint
        assert exchange(logged_in, web_client, authorize(logged_in, web_client)).json()["expires_in"] == 3600


def test_refresh_idle_lifetime_is_dots_setting(settings):
    from oauth2_provider.models import refresh_token_expire_timedelta

    assert refresh_token_expire_timedelta() == timedelta(days=30)
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "REFRESH_TOKEN_EXPIRE_SECONDS": 3600}
    assert refresh_token_expire_timedelta() == timedelta(hours=1)

"""idp.checks: every system check id, one case per rule, asserting the exact ids."""

import re
from pathlib import Path

import pytest
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

import idp.checks
import idp.install_checks
from idp.checks import refuse_unsafe_start
from idp.demo import load_demo_data, read_demo_file
from idp.keys import generate_private_key_pem
from idp.oauth2_validators import IdpOAuth2Validator

PRODUCTION = "https://id.example.com"
SMTP = "django.core.mail.backends.smtp.EmailBackend"


def idp_check_ids() -> list[str]:
    """The ids of every idp check message, as ``manage.py check --database default`` finds them."""
    return [
        message.id for message in checks.run_checks(databases=["default"]) if message.id.startswith("idp.")
    ]


def dot(settings, **values) -> None:
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, **values}


@pytest.fixture
def production(settings):
    """A production issuer that passes every check: https, email that is delivered."""
    dot(settings, OIDC_ISS_ENDPOINT=PRODUCTION)
    settings.EMAIL_BACKEND = SMTP


@pytest.mark.django_db
def test_defaults_pass():
    assert idp_check_ids() == []


@pytest.mark.django_db
def test_a_sound_production_configuration_passes(production):
    assert idp_check_ids() == []


def test_every_check_id_has_a_case_here():
    """An id added to idp/checks.py fails this test until a case here asserts it."""
    ids = re.compile(r"idp\.[EW]\d{3}")
    modules = (idp.checks, idp.install_checks)
    in_checks = {found for module in modules for found in ids.findall(Path(module.__file__).read_text())}
    asserted = {
        found
        for case in re.findall(r'== \[("idp[^\]]*)\]', Path(__file__).read_text())
        for found in ids.findall(case)
    }
    assert "idp.E001" in in_checks and in_checks == asserted


# --- idp.E001, idp.E002: the issuer ------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "issuer",
    [
        "",  # DOT's default: the issuer would be taken from each request's host
        "id.example.com",
        "ftp://id.example.com",
        "https://id.example.com/path",
        "https://id.example.com/",
        "https://id.example.com?tenant=1",
        "https://",
    ],
)
def test_an_issuer_that_is_not_a_bare_origin_is_e001(settings, issuer):
    dot(settings, OIDC_ISS_ENDPOINT=issuer)
    settings.EMAIL_BACKEND = SMTP  # not loopback: production, whose email must be delivered (idp.E007)
    assert idp_check_ids() == ["idp.E001"]


@pytest.mark.django_db
def test_a_plain_http_issuer_off_loopback_is_e002(settings):
    dot(settings, OIDC_ISS_ENDPOINT="http://id.example.com")
    settings.EMAIL_BACKEND = SMTP
    assert idp_check_ids() == ["idp.E002"]


@pytest.mark.django_db
@pytest.mark.parametrize("issuer", ["http://127.0.0.1:8000", "http://localhost:9000", "http://[::1]:8000"])
def test_a_plain_http_loopback_issuer_passes(settings, issuer):
    dot(settings, OIDC_ISS_ENDPOINT=issuer)
    assert idp_check_ids() == []


# --- idp.E003: the signing key -----------------------------------------------------------------------


@pytest.mark.django_db
def test_no_signing_key_is_e003(settings):
    dot(settings, OIDC_RSA_PRIVATE_KEY="")
    settings.IDP = {**settings.IDP, "KEY_ENCRYPTION_KEY": None}
    assert idp_check_ids() == ["idp.E003"]


@pytest.mark.django_db
def test_no_signing_key_in_settings_passes_with_a_key_encryption_key(settings):
    dot(settings, OIDC_RSA_PRIVATE_KEY="")  # the keys are kept in the database
    assert settings.IDP["KEY_ENCRYPTION_KEY"]
    assert idp_check_ids() == []


@pytest.mark.django_db
def test_malformed_key_encryption_key_is_e020(settings):
    settings.IDP = {**settings.IDP, "KEY_ENCRYPTION_KEY": "too-short"}
    assert idp_check_ids() == ["idp.E020"]


@pytest.mark.django_db
def test_stored_keys_another_key_encryption_key_cannot_decrypt_are_e021(settings):
    from idp.key_rotation import rotate_key
    from idp.key_storage import generate_kek

    rotate_key(alg="ES256")
    assert idp_check_ids() == []
    settings.IDP = {**settings.IDP, "KEY_ENCRYPTION_KEY": generate_kek()}
    assert idp_check_ids() == ["idp.E021"]
    with pytest.raises(ImproperlyConfigured, match="cannot be decrypted"):
        refuse_unsafe_start()


@pytest.mark.django_db
def test_another_signing_key_passes(settings):
    dot(settings, OIDC_RSA_PRIVATE_KEY=generate_private_key_pem())
    assert idp_check_ids() == []


# --- idp.E004: demo credentials ------------------------------------------------------------------------


@pytest.mark.django_db
def test_demo_credentials_on_a_production_issuer_are_e004(production):
    load_demo_data(read_demo_file())
    assert idp_check_ids() == ["idp.E004"]


@pytest.mark.django_db
def test_demo_credentials_on_a_loopback_issuer_pass():
    load_demo_data(read_demo_file())
    assert idp_check_ids() == []


# --- idp.E005, idp.W001: the accent colour ---------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("color", ["red", "#0b57d", "#0b57d0;", 11720400, None])
def test_an_accent_colour_that_is_not_rrggbb_is_e005(settings, color):
    settings.IDP = {**settings.IDP, "ACCENT_COLOR": color}
    assert idp_check_ids() == ["idp.E005"]


@pytest.mark.django_db
def test_an_accent_colour_unreadable_on_white_is_w001(settings):
    settings.IDP = {**settings.IDP, "ACCENT_COLOR": "#ffcc00"}
    assert idp_check_ids() == ["idp.W001"]


# --- idp.E006: rates --------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "setting",
    ["API_THROTTLE_RATES", "PASSWORD_RESET_RATES", "DEVICE_USER_CODE_RATES", "DEVICE_AUTHORIZATION_RATES"],
)
def test_an_unreadable_rate_is_e006(settings, setting):
    settings.IDP = {**settings.IDP, setting: {"client": "often", "user": "0/fortnight"}}
    assert idp_check_ids() == ["idp.E006", "idp.E006"]


@pytest.mark.django_db
@pytest.mark.parametrize("rates", [None, {}, {"client": None, "user": "5/second"}])
def test_no_or_readable_rates_pass(settings, rates):
    settings.IDP = {**settings.IDP, "API_THROTTLE_RATES": rates}
    assert idp_check_ids() == []


# --- idp.E007: email that is never delivered ---------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("backend", ["console", "locmem"])
def test_undelivered_email_on_a_production_issuer_is_e007(production, settings, backend):
    settings.EMAIL_BACKEND = f"django.core.mail.backends.{backend}.EmailBackend"
    assert idp_check_ids() == ["idp.E007"]


# --- idp.E008, idp.W002: IDP keys ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "dot_name"),
    [
        ("ISSUER", "OIDC_ISS_ENDPOINT"),
        ("SIGNING_KEY", "OIDC_RSA_PRIVATE_KEY"),
        ("ACCESS_TOKEN_LIFETIME", "ACCESS_TOKEN_EXPIRE_SECONDS"),
        ("CLEANUP_BATCH_SIZE", "CLEAR_EXPIRED_TOKENS_BATCH_SIZE"),
    ],
)
def test_an_idp_key_that_dot_holds_is_e008_naming_dots_key(settings, name, dot_name):
    settings.IDP = {**settings.IDP, name: "a value"}
    assert idp_check_ids() == ["idp.E008"]
    [message] = [m for m in checks.run_checks() if m.id == "idp.E008"]
    assert f"OAUTH2_PROVIDER[{dot_name!r}]" in message.hint


@pytest.mark.django_db
def test_an_unknown_idp_key_is_w002(settings):
    settings.IDP = {**settings.IDP, "SITE_NAMES": "Typo ID"}
    assert idp_check_ids() == ["idp.W002"]


def test_without_an_idp_dict_the_idp_key_check_passes():
    from idp.checks import check_idp_keys

    with override_settings(IDP={}):
        assert check_idp_keys(None) == []


# --- idp.E009, idp.E010: CredentialEndpointsMiddleware (optional) -----------------------------------------

CREDENTIAL_MIDDLEWARE = "idp.middleware.CredentialEndpointsMiddleware"


def test_every_path_the_credential_middleware_answers_is_a_credential_endpoint():
    from idp.checks import credential_endpoint_views, needs_no_session

    paths = [path for path, view in credential_endpoint_views() if needs_no_session(view)]
    assert {"/token", "/revoke", "/introspect", "/userinfo", "/api/v1/me", "/api/v1/users"} <= set(paths)
    assert "/api/v1/(any other)" in paths  # the API's JSON 404


@pytest.mark.django_db
def test_a_session_view_where_the_credential_middleware_answers_is_e009(settings):
    settings.ROOT_URLCONF = "tests.credential_urls"
    assert idp_check_ids() == ["idp.E009", "idp.E009"]
    messages = [m.msg for m in checks.run_checks() if m.id == "idp.E009"]
    assert messages[0].startswith("/userinfo is answered") and "page_of_the_session" in messages[0]
    assert messages[1].startswith("/api/v1/session is answered") and "SessionApi" in messages[1]


@pytest.mark.django_db
def test_without_the_credential_middleware_its_checks_pass(settings):
    settings.MIDDLEWARE = [name for name in settings.MIDDLEWARE if name != CREDENTIAL_MIDDLEWARE]
    settings.ROOT_URLCONF = "tests.credential_urls"
    assert idp_check_ids() == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("neighbour", "place"),
    [
        ("idp.middleware.RequestIdMiddleware", "after"),
        ("django.middleware.security.SecurityMiddleware", "after"),
        ("idp.middleware.SecurityHeadersMiddleware", "after"),
        ("django.contrib.sessions.middleware.SessionMiddleware", "before"),
    ],
)
def test_a_misplaced_credential_middleware_is_e010(settings, neighbour, place):
    """Below the session middleware it skips nothing; above the request id, HTTPS redirect/HSTS or CSP its
    answers lack them."""
    middleware = [name for name in settings.MIDDLEWARE if name != CREDENTIAL_MIDDLEWARE]
    at = middleware.index(neighbour)
    middleware.insert(at if place == "after" else at + 1, CREDENTIAL_MIDDLEWARE)
    settings.MIDDLEWARE = middleware
    assert idp_check_ids() == ["idp.E010"]
    [message] = [m for m in checks.run_checks() if m.id == "idp.E010"]
    assert neighbour in message.msg


# --- idp.E011..idp.E019, idp.W003: installing idp into a site (idp/install_checks.py) --------------------


@pytest.mark.django_db
def test_dots_own_models_in_place_of_idps_are_e011_naming_the_setting(settings):
    del settings.OAUTH2_PROVIDER_GRANT_MODEL
    settings.OAUTH2_PROVIDER_ID_TOKEN_MODEL = "oauth2_provider.IDToken"
    assert idp_check_ids() == ["idp.E011", "idp.E011"]
    hints = [m.hint for m in checks.run_checks() if m.id == "idp.E011"]
    assert hints == [
        'Add OAUTH2_PROVIDER_GRANT_MODEL = "idp.Grant" to settings.py (before the first migrate).',
        'Add OAUTH2_PROVIDER_ID_TOKEN_MODEL = "idp.IDToken" to settings.py (before the first migrate).',
    ]


@pytest.mark.django_db
def test_dots_own_validator_is_e012_with_the_builder_as_hint(settings):
    dot(settings, OAUTH2_VALIDATOR_CLASS="oauth2_provider.oauth2_validators.OAuth2Validator")
    assert idp_check_ids() == ["idp.E012"]
    [message] = [m for m in checks.run_checks() if m.id == "idp.E012"]
    assert "OAUTH2_VALIDATOR_CLASS" in message.msg and "oauth2_provider_settings(" in message.hint


@pytest.mark.django_db
def test_a_subclass_of_idps_validator_passes(settings):
    dot(settings, OAUTH2_VALIDATOR_CLASS=f"{__name__}.SiteValidator")
    assert idp_check_ids() == []


class SiteValidator(IdpOAuth2Validator):
    """A site's own validator, built on idp's."""


@pytest.mark.django_db
def test_missing_session_csrf_auth_or_messages_middleware_is_e013(settings):
    settings.MIDDLEWARE = [
        m for m in settings.MIDDLEWARE if m != "django.contrib.messages.middleware.MessageMiddleware"
    ]
    assert idp_check_ids() == ["idp.E013"]
    [message] = [m for m in checks.run_checks() if m.id == "idp.E013"]
    assert message.msg.startswith("django.contrib.messages.middleware.MessageMiddleware")


@pytest.mark.django_db
def test_without_request_ids_or_security_headers_is_w003(settings):
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != "idp.middleware.RequestIdMiddleware"]
    assert idp_check_ids() == ["idp.W003"]


@pytest.mark.django_db
def test_urls_without_idp_are_e014(settings):
    settings.ROOT_URLCONF = "tests.no_idp_urls"
    assert idp_check_ids() == ["idp.E014"]


@pytest.mark.django_db
def test_an_idp_setting_that_is_not_a_dict_is_e015(settings):
    settings.IDP = [("SITE_NAME", "x")]
    assert [i for i in idp_check_ids() if i in {"idp.E015", "idp.E016"}] == ["idp.E015"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["project.nowhere.Claims", "idp.models.Consent"])
def test_a_claims_source_that_cannot_serve_is_e016(settings, path):
    settings.IDP = {**settings.IDP, "CLAIMS_SOURCE": path}
    assert idp_check_ids() == ["idp.E016"]


@pytest.mark.django_db
def test_without_the_client_secret_hasher_is_e017(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    assert idp_check_ids() == ["idp.E017"]


@pytest.mark.django_db
def test_a_login_url_that_is_no_page_is_e018(settings):
    settings.LOGIN_URL = "/accounts/login/"
    assert idp_check_ids() == ["idp.E018"]


@pytest.mark.django_db
def test_without_the_site_context_processor_is_e019(settings):
    engine = settings.TEMPLATES[0]
    options = {**engine["OPTIONS"], "context_processors": engine["OPTIONS"]["context_processors"][:-1]}
    settings.TEMPLATES = [{**engine, "OPTIONS": options}]
    assert idp_check_ids() == ["idp.E019"]

"""IdpOAuth2Validator at hook level: what each oauthlib hook answers and leaves behind, called directly."""

import base64
import json
import secrets
from datetime import timedelta

import pytest
from django.utils import timezone
from oauthlib.common import Request
from oauthlib.oauth2.rfc6749 import errors

from idp import tokens
from idp.clients import rotate_client_secret
from idp.models import AccessToken, AuditEvent, Grant, RefreshToken
from idp.oauth2_validators import IdpOAuth2Validator
from idp.tokens.state import TokenRequestState, state_of
from tests.conftest import REDIRECT_URI, pkce_pair
from tests.factories import (
    CLIENT_SECRET,
    ApplicationFactory,
    PublicClientFactory,
    ServiceClientFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

VERIFIER, CHALLENGE = pkce_pair()


@pytest.fixture
def validator() -> IdpOAuth2Validator:
    return IdpOAuth2Validator()


@pytest.fixture
def alice(db):
    return UserFactory(username="alice")


@pytest.fixture
def web(db):
    return ApplicationFactory(client_id="web")


def token_request(*, basic: tuple[str, str] | None = None, **params) -> Request:
    headers = {}  # as DOT passes them on: Django's META names
    if basic is not None:
        headers["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(":".join(basic).encode()).decode()
    body = "&".join(f"{key}={value}" for key, value in params.items())
    return Request("https://op.example.com/token", http_method="POST", body=body, headers=headers)


def code_for(user, client, **fields) -> Grant:
    values = {
        "application": client,
        "user": user,
        "code": secrets.token_urlsafe(32),
        "expires": timezone.now() + timedelta(minutes=1),
        "redirect_uri": REDIRECT_URI,
        "scope": "openid email",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
        "nonce": "n-1",
        "claims": json.dumps({"userinfo": {"email": None}}),
        **fields,
    }
    return Grant.objects.create(**values)


def first_use(grant) -> AccessToken:
    """Exchange ``grant`` the way the token endpoint does, leaving it used with its tokens linked."""
    request = token_request()
    request.client, request.user = grant.application, grant.user
    access_token = tokens.save_access_token(
        request,
        value=secrets.token_urlsafe(32),
        scope=grant.scope,
        expires=timezone.now() + timedelta(hours=1),
        id_token=None,
        source_refresh_token=None,
    )
    refresh_token = tokens.save_refresh_token(
        request, value=secrets.token_urlsafe(32), access_token=access_token, previous=None
    )
    assert tokens.claim_code(grant, access_token_id=access_token.pk, token_family=refresh_token.token_family)
    return access_token


# --- per-request state ---------------------------------------------------------------------------


def test_each_request_has_one_typed_state():
    request, other = token_request(), token_request()
    assert isinstance(state_of(request), TokenRequestState)
    assert state_of(request) is state_of(request) and state_of(request) is not state_of(other)
    assert not [name for name in vars(request) if name.startswith("_idp")]


# --- validate_code and the hooks that read the code ----------------------------------------------


def test_a_live_code_is_read_once_by_every_hook_and_carried_onto_the_request(
    validator, alice, web, django_assert_num_queries
):
    grant = code_for(alice, web)
    request = token_request(code_verifier=VERIFIER)
    with django_assert_num_queries(1):
        assert validator.get_authorization_code_scopes(web.client_id, grant.code, REDIRECT_URI, request) == [
            "openid",
            "email",
        ]
        assert validator.validate_code(web.client_id, grant.code, web, request)
        assert validator.get_code_challenge(grant.code, request) == CHALLENGE
        assert validator.get_code_challenge_method(grant.code, request) == "S256"
        assert validator.confirm_redirect_uri(web.client_id, grant.code, REDIRECT_URI, web, request)
        assert (
            validator.get_authorization_code_nonce(web.client_id, grant.code, REDIRECT_URI, request) == "n-1"
        )
    assert (request.user, request.scopes, request.nonce) == (alice, ["openid", "email"], "n-1")
    assert request.claims == {"userinfo": {"email": None}}
    assert state_of(request).grant == grant
    assert not AuditEvent.objects.exists()


def test_a_used_code_fails_and_revokes_the_tokens_it_became(validator, alice, web):
    grant = code_for(alice, web)
    issued = first_use(grant)
    assert not validator.validate_code(web.client_id, grant.code, web, token_request(code_verifier=VERIFIER))
    assert not AccessToken.objects.filter(pk=issued.pk).exists()
    assert not RefreshToken.objects.filter(revoked__isnull=True).exists()
    (event,) = AuditEvent.objects.filter(event="code_reuse")
    assert (event.actor, event.client, event.details) == (alice, web, {})


def test_an_expired_code_fails_without_revoking_anything(validator, alice, web):
    grant = code_for(alice, web, expires=timezone.now() - timedelta(seconds=1))
    assert not validator.validate_code(web.client_id, grant.code, web, token_request(code_verifier=VERIFIER))
    assert not AuditEvent.objects.exists()


def test_another_clients_code_fails_and_stays_unused(validator, alice, web):
    grant = code_for(alice, ApplicationFactory(client_id="other"))
    request = token_request(code_verifier=VERIFIER)
    assert not validator.validate_code(web.client_id, grant.code, web, request)
    with pytest.raises(errors.InvalidGrantError):
        validator.confirm_redirect_uri(web.client_id, "never-issued", REDIRECT_URI, web, request)
    grant.refresh_from_db()
    assert grant.used_at is None and not AuditEvent.objects.exists()


def test_a_verifier_for_a_code_issued_without_a_challenge_is_a_downgrade(validator, alice, web):
    grant = code_for(alice, web, code_challenge="", code_challenge_method="")
    with pytest.raises(errors.InvalidGrantError):
        validator.validate_code(web.client_id, grant.code, web, token_request(code_verifier=VERIFIER))


def test_a_malformed_verifier_is_invalid_request(validator, alice, web):
    grant = code_for(alice, web)
    with pytest.raises(errors.InvalidRequestError):
        validator.validate_code(web.client_id, grant.code, web, token_request(code_verifier="short"))


# --- client authentication: the previous secret during its grace period -------------------------


@pytest.mark.parametrize("method", ["basic", "body"])
def test_the_previous_secret_authenticates_during_its_grace_period_only(validator, web, method):
    rotate_client_secret(web, grace_seconds=3600)

    def authenticate() -> bool:
        if method == "basic":
            request = token_request(basic=(web.client_id, CLIENT_SECRET))
        else:
            request = token_request(client_id=web.client_id, client_secret=CLIENT_SECRET)
        return validator.authenticate_client(request) and request.client_id == web.client_id

    assert authenticate()
    web.previous_client_secret_expires = timezone.now() - timedelta(seconds=1)
    web.save()
    assert not authenticate()


def test_the_previous_secret_of_another_client_does_not_authenticate(validator, web):
    other = ApplicationFactory(client_id="other")
    rotate_client_secret(web, grace_seconds=3600)
    assert not validator.authenticate_client(token_request(basic=(other.client_id, "x" + CLIENT_SECRET)))
    request = token_request(basic=(web.client_id, CLIENT_SECRET), client_id=other.client_id)
    with pytest.raises(errors.InvalidRequestError):
        validator.authenticate_client(request)


# --- save_bearer_token: a replay that lost the race ----------------------------------------------


def test_saving_for_a_code_a_concurrent_request_used_first_is_a_replay(validator, alice, web):
    grant = code_for(alice, web)
    request = token_request(grant_type="authorization_code", code=grant.code, code_verifier=VERIFIER)
    request.client = web
    assert validator.validate_code(web.client_id, grant.code, web, request)  # unused when read
    winner = first_use(Grant.objects.get(pk=grant.pk))  # ... then used by a concurrent request
    token = {"access_token": secrets.token_urlsafe(32), "scope": "openid email", "expires_in": 3600}
    with pytest.raises(errors.InvalidGrantError, match="already used"):
        validator.save_bearer_token(token, request)
    assert not AccessToken.objects.exists()  # the loser's rolled back, the winner's revoked
    assert not AccessToken.objects.filter(pk=winner.pk).exists()
    (event,) = AuditEvent.objects.filter(event="code_reuse")
    assert event.details == {"race": True}
    assert not AuditEvent.objects.filter(event="token_issued").exists()


def test_saving_for_a_live_code_claims_it_and_records_the_issue_once(validator, alice, web):
    grant = code_for(alice, web)
    request = token_request(grant_type="authorization_code", code=grant.code, code_verifier=VERIFIER)
    request.client = web
    assert validator.validate_code(web.client_id, grant.code, web, request)
    token = {"access_token": secrets.token_urlsafe(32), "scope": "openid email", "expires_in": 3600}
    validator.save_bearer_token(token, request)
    grant.refresh_from_db()
    assert grant.used_at is not None and grant.access_token == AccessToken.objects.get()
    assert state_of(request).access_token == grant.access_token
    (event,) = AuditEvent.objects.filter(event="token_issued")
    assert event.details["grant_type"] == "authorization_code" and event.details["refresh"] is False


# --- is_pkce_required: every kind of client ------------------------------------------------------


@pytest.mark.parametrize(
    ("factory", "fields", "required"),
    [
        (ApplicationFactory, {}, True),  # web (confidential)
        (ApplicationFactory, {"allow_nonce_instead_of_pkce": True}, False),  # the operator's exception
        (PublicClientFactory, {}, True),  # single-page app
        (PublicClientFactory, {"allow_nonce_instead_of_pkce": True}, True),  # public: never an exception
        (PublicClientFactory, {"kind": "native"}, True),
        (PublicClientFactory, {"kind": "native", "allow_nonce_instead_of_pkce": True}, True),
        (ServiceClientFactory, {}, True),
    ],
    ids=["web", "web-nonce-allowed", "spa", "spa-nonce-flag", "native", "native-nonce-flag", "service"],
)
def test_pkce_is_required_for_every_client_but_a_confidential_one_allowed_a_nonce(
    validator, factory, fields, required
):
    client = factory(client_id="c", **fields)
    loaded_by_oauthlib = token_request()
    loaded_by_oauthlib.client = client
    assert validator.is_pkce_required(client.client_id, loaded_by_oauthlib) is required
    assert validator.is_pkce_required(client.client_id, token_request()) is required  # read by client_id


def test_pkce_is_required_for_an_unknown_client(validator):
    assert validator.is_pkce_required("no-such-client", token_request()) is True


# --- confirm_redirect_uri -------------------------------------------------------------------------


def test_the_redirect_uri_must_be_the_one_the_code_was_issued_for(validator, alice, web):
    """Another of the client's registered URIs is refused too: RFC 6749 §4.1.3 compares with the code's."""
    grant = code_for(alice, web)
    other_registered = web.redirect_uris.split()[1]
    assert web.redirect_uri_allowed(other_registered)
    for redirect_uri in (other_registered, REDIRECT_URI + "/", REDIRECT_URI + "?x=1"):
        with pytest.raises(errors.InvalidGrantError) as refused:
            validator.confirm_redirect_uri(web.client_id, grant.code, redirect_uri, web, token_request())
        assert (
            refused.value.description == "redirect_uri does not match the one in the authorization request."
        )
    assert validator.confirm_redirect_uri(web.client_id, grant.code, REDIRECT_URI, web, token_request())


# --- validate_bearer_token: userinfo and the API -------------------------------------------------


def bearer_for(user, client, *, scope: str = "openid email", expires_in: int = 3600) -> str:
    """A stored access token's value, saved as the token endpoint saves it."""
    value = secrets.token_urlsafe(32)
    request = token_request()
    request.client, request.user = client, user
    tokens.save_access_token(
        request,
        value=value,
        scope=scope,
        expires=timezone.now() + timedelta(seconds=expires_in),
        id_token=None,
        source_refresh_token=None,
    )
    return value


INVALID_TOKEN = {"error": "invalid_token", "error_description": "The access token is invalid."}


def resource_request() -> Request:
    return Request("https://op.example.com/userinfo", http_method="GET")


def test_a_live_bearer_token_names_its_person_client_and_scopes(validator, alice, web):
    request = resource_request()
    assert validator.validate_bearer_token(bearer_for(alice, web), ["openid"], request)
    assert (request.user, request.client, request.scopes) == (alice, web, ["openid", "email"])
    assert request.access_token.user == alice


def test_the_bearer_token_of_a_deactivated_person_is_an_unknown_token(validator, alice, web):
    """Deactivating through the model revokes the tokens too (tests/test_accounts.py); a token that
    survives, say an account switched off in the database, still opens nothing."""
    value = bearer_for(alice, web)
    type(alice).objects.filter(pk=alice.pk).update(is_active=False)
    assert AccessToken.objects.filter(user=alice).exists()
    request = resource_request()
    assert not validator.validate_bearer_token(value, ["openid"], request)
    assert dict(request.oauth2_error) == INVALID_TOKEN
    assert request.user is None and request.client is None


def test_the_bearer_token_of_a_disabled_client_is_invalid(validator, alice, web):
    value = bearer_for(alice, web)
    type(web).objects.filter(pk=web.pk).update(is_active=False)
    assert AccessToken.objects.filter(application=web).exists()
    request = resource_request()
    assert not validator.validate_bearer_token(value, ["openid"], request)
    assert dict(request.oauth2_error) == INVALID_TOKEN
    assert request.user is None and request.client is None


def test_an_expired_bearer_token_or_one_without_the_scope_is_refused(validator, alice, web):
    expired = resource_request()
    assert not validator.validate_bearer_token(bearer_for(alice, web, expires_in=-1), ["openid"], expired)
    assert dict(expired.oauth2_error) == {
        "error": "invalid_token",
        "error_description": "The access token has expired.",
    }
    narrow = resource_request()
    assert not validator.validate_bearer_token(bearer_for(alice, web, scope="email"), ["openid"], narrow)
    assert narrow.oauth2_error["error"] == "insufficient_scope"


def test_an_id_token_is_never_a_bearer_token(validator):
    assert (
        validator.validate_jwt_bearer_token("eyJhbGciOiJSUzI1NiJ9.e30.c2ln", ["openid"], resource_request())
        is False
    )

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
from idp.oauth2_validators import IdpOAuth2Validator, TokenRequestState, state_of
from tests.conftest import REDIRECT_URI, pkce_pair
from tests.factories import CLIENT_SECRET, ApplicationFactory, UserFactory

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

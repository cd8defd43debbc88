"""The OpenID Foundation RP-Initiated Logout OP plan, one test per module id."""

import base64
import json

import pytest
from jwcrypto import jwk, jwt

from tests.conftest import ISSUER, authorize_params, pkce_pair, query_of

pytestmark = pytest.mark.django_db

POST_LOGOUT = "https://rp.example.com/logged-out"


def prompt_none_fails(client, app) -> bool:
    response = client.get("/authorize", authorize_params(app, challenge=pkce_pair()[1], prompt="none"))
    return query_of(response["Location"]).get("error") == "login_required"


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


# DOT's messages for the three refusals, shown in the error page's details for the RP's developers.
UNREGISTERED_URI = "This client does not have this redirect uri registered."
INVALID_HINT = "The ID Token is expired, revoked, malformed, or otherwise invalid."
UNKNOWN_CLIENT = "The client is unknown or no client has been included."


def assert_refused(response, description: str) -> None:
    """The sign-out request is refused with a page saying why (400), never a redirect to the RP."""
    assert response.status_code == 400 and "Location" not in response
    assert response.templates[0].name == "idp/logout_error.html"
    assert response.context["error"].error == "invalid_request"
    assert response.context["error"].description == description
    assert description.encode() in response.content


def confirm_logout(client, page):
    """Answer a confirmation page with its 'Sign out' button, as a person would."""
    assert b"Sign out?" in page.content
    form = page.context["form"]
    data = {name: value for name, value in form.initial.items() if value}
    return client.post("/end-session", {**data, page.context["logout_marker"]: "1", "allow": "1"})


def test_oidcc_rp_initiated_logout_discovery_endpoint_verification(client):
    assert (
        client.get("/.well-known/openid-configuration").json()["end_session_endpoint"]
        == ISSUER + "/end-session"
    )


def test_oidcc_rp_initiated_logout(logged_in, tokens, web_client):
    response = logged_in.get(
        "/end-session",
        {"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": POST_LOGOUT, "state": "s1"},
    )
    assert response.status_code == 302
    assert response["Location"] == POST_LOGOUT + "?state=s1"
    assert prompt_none_fails(logged_in, web_client)


def test_oidcc_rp_initiated_logout_bad_post_logout_redirect_uri(logged_in, tokens):
    response = logged_in.get(
        "/end-session",
        {"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": "https://rp.example.com/elsewhere"},
    )
    assert_refused(response, UNREGISTERED_URI)


def test_oidcc_rp_initiated_logout_modified_id_token_hint(logged_in, tokens):
    _header, payload, _signature = tokens["id_token"].split(".")
    none_header = base64.urlsafe_b64encode(json.dumps({"alg": "none"}).encode()).rstrip(b"=").decode()
    response = logged_in.get(
        "/end-session",
        {"id_token_hint": f"{none_header}.{payload}.", "post_logout_redirect_uri": POST_LOGOUT},
    )
    assert_refused(response, INVALID_HINT)
    assert signed_in(logged_in)


def test_oidcc_rp_initiated_logout_bad_id_token_hint(logged_in, tokens):
    foreign_key = jwk.JWK.generate(kty="RSA", size=2048)
    claims = json.loads(base64.urlsafe_b64decode(tokens["id_token"].split(".")[1] + "=="))
    forged = jwt.JWT(header={"alg": "RS256", "kid": foreign_key.thumbprint()}, claims=claims)
    forged.make_signed_token(foreign_key)
    response = logged_in.get(
        "/end-session", {"id_token_hint": forged.serialize(), "post_logout_redirect_uri": POST_LOGOUT}
    )
    assert_refused(response, INVALID_HINT)
    assert signed_in(logged_in)


def test_oidcc_rp_initiated_logout_no_id_token_hint(logged_in, web_client):
    without_client = logged_in.get("/end-session", {"post_logout_redirect_uri": POST_LOGOUT, "state": "s"})
    assert_refused(without_client, UNKNOWN_CLIENT)
    with_client = logged_in.get(
        "/end-session", {"client_id": web_client.client_id, "post_logout_redirect_uri": POST_LOGOUT}
    )
    assert with_client.status_code == 200 and b"Sign out?" in with_client.content  # asks, never redirects
    assert signed_in(logged_in)


def test_oidcc_rp_initiated_logout_no_params(logged_in, web_client):
    page = logged_in.get("/end-session")
    done = confirm_logout(logged_in, page)
    assert done.status_code == 200 and b"You are signed out" in done.content
    assert prompt_none_fails(logged_in, web_client)


def test_oidcc_rp_initiated_logout_no_post_logout_redirect_uri(logged_in, tokens, web_client):
    response = logged_in.get("/end-session", {"id_token_hint": tokens["id_token"]})
    assert response.status_code == 200 and b"You are signed out" in response.content
    assert prompt_none_fails(logged_in, web_client)


def test_oidcc_rp_initiated_logout_no_state(logged_in, tokens, web_client):
    response = logged_in.get(
        "/end-session", {"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": POST_LOGOUT}
    )
    assert response.status_code == 302 and response["Location"] == POST_LOGOUT
    assert prompt_none_fails(logged_in, web_client)


def test_oidcc_rp_initiated_logout_only_state(logged_in, web_client):
    page = logged_in.get("/end-session", {"state": "only"})
    done = confirm_logout(logged_in, page)
    assert done.status_code == 200 and b"You are signed out" in done.content
    assert prompt_none_fails(logged_in, web_client)


def test_oidcc_rp_initiated_logout_query_added_to_post_logout_redirect_uri(logged_in, tokens):
    response = logged_in.get(
        "/end-session",
        {"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": POST_LOGOUT + "?foo=bar"},
    )
    assert_refused(response, UNREGISTERED_URI)
    assert signed_in(logged_in)

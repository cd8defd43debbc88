"""The OpenID Foundation Basic OP and Config OP plans, one test per module id (oidcc-*)."""

import base64
import json

import pytest

from idp.models import AccessToken
from tests.conftest import (
    ISSUER,
    REDIRECT_URI,
    Authorization,
    authorize,
    authorize_params,
    basic_auth,
    consent_form_data,
    exchange,
    pkce_pair,
    query_of,
    verify_id_token,
)
from tests.factories import CLIENT_SECRET, PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def code_flow(client, app, **params) -> tuple[dict, dict]:
    """Authorize (approving consent if asked), exchange the code; return the token body and ID claims."""
    body = exchange(client, app, authorize(client, app, **params)).json()
    return body, verify_id_token(client, body["id_token"])


def userinfo(client, token: str) -> dict:
    response = client.get("/userinfo", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200, response.content
    return response.json()


def sign_in(client, user, next_url: str):
    """Submit the login form like a person, following ``next`` back to the authorization endpoint."""
    response = client.post("/login", {"username": user.username, "password": PASSWORD, "next": next_url})
    assert response.status_code == 302, response.content[:300]
    return response["Location"]


def age_session(client, seconds: int) -> int:
    session = client.session
    session["idp_auth_time"] -= seconds
    session.save()
    return session["idp_auth_time"]


def test_oidcc_server(logged_in, web_client, user):
    authz = authorize(logged_in, web_client)
    assert query_of(authz.location)["iss"] == ISSUER
    body = exchange(logged_in, web_client, authz).json()
    claims = verify_id_token(logged_in, body["id_token"])
    assert {"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce"} <= claims.keys()
    assert userinfo(logged_in, body["access_token"])["sub"] == claims["sub"]


def test_oidcc_response_type_missing(logged_in, web_client):
    params = authorize_params(web_client, challenge=pkce_pair()[1])
    del params["response_type"]
    response = logged_in.get("/authorize", params)
    assert response.status_code == 302
    query = query_of(response["Location"])
    assert query["error"] == "invalid_request"
    assert query["error_description"] == "Missing response_type parameter."


def test_oidcc_idtoken_signature(logged_in, web_client):
    body, _ = code_flow(logged_in, web_client)
    header = json.loads(base64.urlsafe_b64decode(body["id_token"].split(".")[0] + "=="))
    assert header["alg"] == "RS256" and header["kid"]


def test_oidcc_idtoken_unsigned_is_not_offered(client):
    doc = client.get("/.well-known/openid-configuration").json()
    assert "none" not in doc["id_token_signing_alg_values_supported"]


def test_oidcc_userinfo_get(logged_in, web_client):
    body, claims = code_flow(logged_in, web_client)
    assert userinfo(logged_in, body["access_token"])["sub"] == claims["sub"]


def test_oidcc_userinfo_post_header(logged_in, web_client):
    body, claims = code_flow(logged_in, web_client)
    response = logged_in.post("/userinfo", HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    assert response.json()["sub"] == claims["sub"]


def test_oidcc_userinfo_post_body(logged_in, web_client):
    body, claims = code_flow(logged_in, web_client)
    assert logged_in.post("/userinfo", {"access_token": body["access_token"]}).json()["sub"] == claims["sub"]


def test_oidcc_ensure_request_without_nonce_succeeds_for_code_flow(logged_in, web_client):
    _, claims = code_flow(logged_in, web_client, nonce=None)
    assert "nonce" not in claims


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ("openid profile", {"name", "given_name", "family_name", "preferred_username", "updated_at"}),
        ("openid email", {"email", "email_verified"}),
        ("openid address", {"address"}),
        ("openid phone", {"phone_number", "phone_number_verified"}),
    ],
    ids=["oidcc-scope-profile", "oidcc-scope-email", "oidcc-scope-address", "oidcc-scope-phone"],
)
def test_oidcc_scope(logged_in, web_client, scope, expected):
    body, claims = code_flow(logged_in, web_client, scope=scope)
    released = userinfo(logged_in, body["access_token"])
    assert expected <= released.keys()
    # Scope claims go to userinfo, not into the ID token.
    assert not expected & claims.keys()


def test_oidcc_scope_all(logged_in, web_client):
    body, _ = code_flow(logged_in, web_client, scope="openid profile email address phone")
    assert {"name", "email", "address", "phone_number"} <= userinfo(logged_in, body["access_token"]).keys()


def test_oidcc_alternate_happy_flow(logged_in, web_client):
    verifier, challenge = pkce_pair()
    params = dict(
        reversed(list(authorize_params(web_client, challenge=challenge, scope="email openid").items()))
    )
    page = logged_in.get("/authorize", params)
    response = logged_in.post("/authorize", {**consent_form_data(page), "allow": "1"})
    code = query_of(response["Location"])["code"]
    assert exchange(logged_in, web_client, Authorization(code, verifier, REDIRECT_URI, "")).status_code == 200


@pytest.mark.parametrize(
    "extra",
    [
        {"display": "page"},
        {"display": "popup"},
        {"ui_locales": "se"},
        {"claims_locales": "se"},
        {"extra": "foobar"},
        {"acr_values": "1 2"},
    ],
    ids=[
        "oidcc-display-page",
        "oidcc-display-popup",
        "oidcc-ui-locales",
        "oidcc-claims-locales",
        "oidcc-ensure-request-with-unknown-parameter-succeeds",
        "oidcc-ensure-request-with-acr-values-succeeds",
    ],
)
def test_oidcc_harmless_parameters_never_cause_an_error(logged_in, web_client, extra):
    body, _ = code_flow(logged_in, web_client, **extra)
    assert body["access_token"]


def test_oidcc_prompt_login(client, web_client, user):
    client.force_login(user)
    _, first = code_flow(client, web_client)
    age_session(client, 5)
    params = authorize_params(web_client, challenge=pkce_pair()[1], prompt="login")
    response = client.get("/authorize", params)
    assert response.status_code == 302 and response["Location"].startswith("/login?next=")
    next_url = query_of(response["Location"])["next"]
    assert "prompt=login" not in next_url
    back = sign_in(client, user, next_url)
    page = client.get(back)
    assert page.status_code == 302  # consent remembered: straight back to the client
    code = query_of(page["Location"])["code"]
    assert code
    assert client.session["idp_auth_time"] > first["auth_time"] - 5


def test_oidcc_prompt_none_not_logged_in(client, web_client):
    response = client.get("/authorize", authorize_params(web_client, challenge=pkce_pair()[1], prompt="none"))
    assert query_of(response["Location"])["error"] == "login_required"


def test_oidcc_prompt_none_logged_in(logged_in, web_client):
    _, first = code_flow(logged_in, web_client)
    verifier, challenge = pkce_pair()
    response = logged_in.get("/authorize", authorize_params(web_client, challenge=challenge, prompt="none"))
    assert response.status_code == 302
    query = query_of(response["Location"])
    assert "code" in query, query
    second = verify_id_token(
        logged_in,
        logged_in.post(
            "/token",
            {"grant_type": "authorization_code", "code": query["code"], "redirect_uri": REDIRECT_URI,
             "code_verifier": verifier},
            HTTP_AUTHORIZATION=basic_auth(web_client.client_id),
        ).json()["id_token"],
    )  # fmt: skip
    assert (second["sub"], second["auth_time"]) == (first["sub"], first["auth_time"])


def test_oidcc_max_age_1(client, web_client, user):
    client.force_login(user)
    _, first = code_flow(client, web_client)
    age_session(client, 2)
    response = client.get("/authorize", authorize_params(web_client, challenge=pkce_pair()[1], max_age="1"))
    assert response.status_code == 302 and response["Location"].startswith("/login?next=")
    next_url = query_of(response["Location"])["next"]
    back = client.get(sign_in(client, user, next_url))
    assert "code" in query_of(back["Location"])
    assert client.session["idp_auth_time"] >= first["auth_time"]


def test_oidcc_max_age_1_with_prompt_none_is_login_required(client, web_client, user):
    client.force_login(user)
    code_flow(client, web_client)
    age_session(client, 2)
    params = authorize_params(web_client, challenge=pkce_pair()[1], max_age="1", prompt="none")
    assert query_of(client.get("/authorize", params)["Location"])["error"] == "login_required"


def test_oidcc_max_age_10000(logged_in, web_client):
    _, first = code_flow(logged_in, web_client)
    _, second = code_flow(logged_in, web_client, max_age="10000")
    assert second["auth_time"] == first["auth_time"]


def test_oidcc_id_token_hint(logged_in, web_client):
    body, _ = code_flow(logged_in, web_client)
    params = authorize_params(
        web_client, challenge=pkce_pair()[1], prompt="none", id_token_hint=body["id_token"]
    )
    response = logged_in.get("/authorize", params)
    assert "code" in query_of(response["Location"])


def test_oidcc_id_token_hint_for_another_user_fails_silently(client, web_client, user):
    other = UserFactory(username="carol")
    client.force_login(other)
    hint = code_flow(client, web_client)[0]["id_token"]
    client.force_login(user)
    code_flow(client, web_client)
    params = authorize_params(web_client, challenge=pkce_pair()[1], prompt="none", id_token_hint=hint)
    assert query_of(client.get("/authorize", params)["Location"])["error"] == "login_required"


def test_oidcc_id_token_hint_that_is_not_ours_is_invalid_request(logged_in, web_client):
    params = authorize_params(web_client, challenge=pkce_pair()[1], id_token_hint="e30.e30.")
    assert query_of(logged_in.get("/authorize", params)["Location"])["error"] == "invalid_request"


def test_oidcc_login_hint(client, web_client):
    response = client.get(
        "/authorize", authorize_params(web_client, challenge=pkce_pair()[1], login_hint="bob")
    )
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert b'value="bob"' in page.content


def test_oidcc_codereuse(logged_in, web_client):
    authz = authorize(logged_in, web_client)
    assert exchange(logged_in, web_client, authz).status_code == 200
    second = exchange(logged_in, web_client, authz)
    assert second.status_code == 400
    assert second.json()["error"] == "invalid_grant"


def test_oidcc_codereuse_30seconds(logged_in, web_client):
    authz = authorize(logged_in, web_client, scope="openid offline_access", prompt="consent")
    body = exchange(logged_in, web_client, authz).json()
    assert exchange(logged_in, web_client, authz).json()["error"] == "invalid_grant"
    # Every token issued from the reused code is revoked.
    assert logged_in.get("/userinfo", HTTP_AUTHORIZATION=f"Bearer {body['access_token']}").status_code == 401
    refreshed = logged_in.post(
        "/token",
        {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
        HTTP_AUTHORIZATION=basic_auth(web_client.client_id),
    )
    assert refreshed.json()["error"] == "invalid_grant"
    assert not AccessToken.objects.exists()


def test_oidcc_ensure_registered_redirect_uri(logged_in, web_client):
    params = authorize_params(
        web_client, challenge=pkce_pair()[1], redirect_uri="https://attacker.example/cb"
    )
    response = logged_in.get("/authorize", params)
    assert response.status_code == 400 and "Location" not in response


def test_oidcc_ensure_post_request_succeeds(logged_in, web_client):
    verifier, challenge = pkce_pair()
    response = logged_in.post("/authorize", authorize_params(web_client, challenge=challenge))
    assert response.status_code == 303
    page = logged_in.get(response["Location"])
    assert page.status_code == 200  # the consent page, reached from a POSTed request
    answer = logged_in.post("/authorize", {**consent_form_data(page), "allow": "1"})
    code = query_of(answer["Location"])["code"]
    assert exchange(logged_in, web_client, Authorization(code, verifier, REDIRECT_URI, "")).status_code == 200


def test_consent_form_without_csrf_token_is_refused(logged_in, web_client):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.cookies = logged_in.cookies
    page = strict.get("/authorize", authorize_params(web_client, challenge=pkce_pair()[1]))
    response = strict.post("/authorize", {**consent_form_data(page), "allow": "1"})
    assert response.status_code == 403


def test_oidcc_server_client_secret_post(logged_in, web_client):
    authz = authorize(logged_in, web_client)
    response = logged_in.post(
        "/token",
        {"grant_type": "authorization_code", "code": authz.code, "redirect_uri": authz.redirect_uri,
         "code_verifier": authz.verifier, "client_id": web_client.client_id, "client_secret": CLIENT_SECRET},
    )  # fmt: skip
    assert response.status_code == 200 and "id_token" in response.json()


@pytest.mark.parametrize(
    ("parameter", "error"),
    [
        ("request_uri", "request_uri_not_supported"),
        ("request", "request_not_supported"),
        ("request", "request_not_supported"),
    ],
    ids=[
        "oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported",
        "oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported",
        "oidcc-ensure-request-object-with-redirect-uri",
    ],
)
def test_oidcc_request_objects_are_rejected_as_unsupported(logged_in, web_client, parameter, error):
    value = "eyJhbGciOiJub25lIn0.eyJzdGF0ZSI6InMifQ." if parameter == "request" else "https://rp/req.jwt"
    params = authorize_params(web_client, challenge=pkce_pair()[1], **{parameter: value})
    query = query_of(logged_in.get("/authorize", params)["Location"])
    assert query["error"] == error and query["state"] == "xyz-state" and query["iss"] == ISSUER


def test_oidcc_claims_essential(logged_in, web_client):
    claims = json.dumps({"userinfo": {"name": {"essential": True}}, "id_token": {"email": None}})
    params = authorize_params(web_client, challenge=pkce_pair()[1], scope="openid", claims=claims)
    page = logged_in.get("/authorize", params)
    assert b'data-claim="name"' in page.content  # asked for by name: the person sees it
    logged_in.post("/authorize", {**consent_form_data(page), "allow": "1"})  # remembered from now on
    body, id_claims = code_flow(logged_in, web_client, scope="openid", claims=claims)
    assert id_claims["email"] == "alice@example.com"
    info = userinfo(logged_in, body["access_token"])
    assert info["name"] == "Alice Liddell"
    assert "email" not in info  # asked for in the ID token only, and no email scope


def test_oidcc_refresh_token(logged_in, web_client, other_client):
    body, first = code_flow(logged_in, web_client, scope="openid offline_access", prompt="consent")
    refreshed = logged_in.post(
        "/token",
        {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
        HTTP_AUTHORIZATION=basic_auth(web_client.client_id),
    )
    assert refreshed.status_code == 200 and refreshed["Cache-Control"] == "no-store"
    second = verify_id_token(logged_in, refreshed.json()["id_token"])
    assert (second["iss"], second["sub"], second["aud"]) == (first["iss"], first["sub"], first["aud"])
    stolen = logged_in.post(
        "/token",
        {"grant_type": "refresh_token", "refresh_token": refreshed.json()["refresh_token"]},
        HTTP_AUTHORIZATION=basic_auth(other_client.client_id),
    )
    assert stolen.json()["error"] == "invalid_grant"


def test_offline_access_without_prompt_consent_is_ignored(logged_in, web_client):
    body, _ = code_flow(logged_in, web_client, scope="openid offline_access")
    assert "refresh_token" not in body
    assert "offline_access" not in body["scope"].split()


def test_oidcc_ensure_request_with_valid_pkce_succeeds(logged_in, web_client):
    body, _ = code_flow(logged_in, web_client)
    assert body["access_token"]


def test_remembered_consent_asks_only_about_new_scopes(logged_in, web_client):
    code_flow(logged_in, web_client, scope="openid email")
    page = logged_in.get("/authorize", authorize_params(web_client, challenge=pkce_pair()[1]))
    assert page.status_code == 200
    assert [scope.name for scope in page.context["new_scope_items"]] == ["profile"]
    assert {scope.name for scope in page.context["granted_scope_items"]} == {"openid", "email"}
    # Fewer scopes than allowed: no page at all.
    response = logged_in.get(
        "/authorize", authorize_params(web_client, challenge=pkce_pair()[1], scope="openid")
    )
    assert response.status_code == 302 and "code" in query_of(response["Location"])


def test_prompt_consent_shows_the_page_even_when_remembered(logged_in, web_client):
    code_flow(logged_in, web_client)
    page = logged_in.get(
        "/authorize", authorize_params(web_client, challenge=pkce_pair()[1], prompt="consent")
    )
    assert page.status_code == 200 and "form" in page.context


def test_oidcc_discovery_endpoint_verification(client):
    response = client.get("/.well-known/openid-configuration")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    doc = response.json()
    assert doc["issuer"] == ISSUER
    assert "code" in doc["response_types_supported"]
    assert set(doc["subject_types_supported"]) <= {"public", "pairwise"}
    assert "RS256" in doc["id_token_signing_alg_values_supported"]
    assert {"authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"} <= doc.keys()
    assert doc["claims_supported"] and doc["grant_types_supported"]
    assert "openid" in doc["scopes_supported"]
    assert isinstance(doc["code_challenge_methods_supported"], list)
    assert client.get("/.well-known/jwks.json").json()["keys"]

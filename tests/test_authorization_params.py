"""Authorization request parameters: repeated ones, response_mode, claims, resource and prompt values."""

from urllib.parse import urlencode, urlsplit

import pytest
from oauth2_provider.models import get_grant_model

from tests.conftest import ISSUER, REDIRECT_URI, authorize_params, consent_form_data, pkce_pair, query_of

pytestmark = pytest.mark.django_db


def url_with(app, *repeated: tuple[str, str]) -> str:
    params = list(authorize_params(app, challenge=pkce_pair()[1]).items())
    return "/authorize?" + urlencode(params + list(repeated))


@pytest.mark.parametrize("name", ["client_id", "response_type", "redirect_uri", "scope", "state"])
def test_a_repeated_parameter_gets_an_error_page_not_a_redirect(logged_in, web_client, name):
    # oauthlib treats these as fatal: which of two values is meant cannot be known.
    others = {"client_id": web_client.client_id, "redirect_uri": "https://rp.example.com/cb"}
    value = others.get(name, "again")
    response = logged_in.get(url_with(web_client, (name, value)))
    assert response.status_code == 400 and "Location" not in response
    assert f"Duplicate {name} parameter".encode() in response.content


def test_repeated_resource_indicators_are_allowed(logged_in, web_client):
    # RFC 8707 §2: resource may be repeated; the consent page carries both and the code is for both.
    page = logged_in.get(
        url_with(web_client, ("resource", "https://a.example.com"), ("resource", "https://b.example.com"))
    )
    assert page.status_code == 200 and page.context["consent_marker"]
    assert page.context["form"].initial["resource"] == "https://a.example.com https://b.example.com"
    answer = logged_in.post("/authorize", {**consent_form_data(page), "allow": "1"})
    assert answer.status_code == 302
    grant = get_grant_model().objects.get(code=query_of(answer["Location"])["code"])
    assert grant.resource == ["https://a.example.com", "https://b.example.com"]


def ask(client, app, **extra):
    return client.get("/authorize", authorize_params(app, challenge=pkce_pair()[1], **extra))


def redirected_error(response) -> dict[str, str]:
    """The error answer: in the query of the registered redirect URI, with state and exactly one iss."""
    assert response.status_code == 302, response.content[:300]
    location = response["Location"]
    assert location.startswith(REDIRECT_URI + "?") and not urlsplit(location).fragment
    assert urlsplit(location).query.count("iss=") == 1
    query = query_of(location)
    assert query["state"] == "xyz-state" and query["iss"] == ISSUER
    return query


@pytest.mark.parametrize("mode", ["fragment", "form_post", "jwt", "junk"])
@pytest.mark.parametrize("prompt", [None, "none"])
def test_an_unsupported_response_mode_is_invalid_request_in_the_query(logged_in, web_client, mode, prompt):
    query = redirected_error(ask(logged_in, web_client, response_mode=mode, prompt=prompt))
    assert query["error"] == "invalid_request" and "response_mode" in query["error_description"]


def test_an_unsupported_response_mode_is_refused_before_sign_in(client, web_client):
    assert redirected_error(ask(client, web_client, response_mode="fragment"))["error"] == "invalid_request"


def test_response_mode_query_is_accepted(logged_in, web_client):
    page = ask(logged_in, web_client, response_mode="query")
    assert page.status_code == 200


@pytest.mark.parametrize(
    "claims",
    [
        "not json",
        "{",
        "[1]",
        '"userinfo"',
        "null",
        '{"userinfo": []}',
        '{"id_token": "email"}',
        '{"userinfo": {"email": 3}}',
        '{"id_token": {"email": {"essential": "yes"}}}',
        '{"id_token": {"email": {"values": "a"}}}',
        # A NUL anywhere: stored with the code and the tokens in PostgreSQL's jsonb, which refuses it
        # (the code exchange was a 500 there).
        '{"userinfo": {"\\u0000": null}}',
        '{"userinfo": {"email": {"value": "a\\u0000b"}}}',
        '{"id_token": {"acr": {"values": ["x", {"\\u0000": 1}]}}}',
        '{"other\\u0000": {}}',
        # Nested deeper than the JSON parser goes (RecursionError, was a 500), and just short of it.
        "[" * 5000,
        '{"userinfo": {"email": {"values": ' + "[" * 900 + '"\\u0000"' + "]" * 900 + "}}}",
    ],
)
def test_a_malformed_claims_parameter_is_invalid_request_with_state_and_iss(logged_in, web_client, claims):
    query = redirected_error(ask(logged_in, web_client, claims=claims))
    assert query["error"] == "invalid_request" and "claims" in query["error_description"]


def test_a_well_formed_claims_parameter_is_accepted(logged_in, web_client):
    claims = (
        '{"userinfo": {"email": {"essential": true}, "nickname": null}, "id_token": {"acr": {"values": []}}}'
    )
    assert ask(logged_in, web_client, claims=claims).status_code == 200


@pytest.mark.parametrize(
    "resource", ["http://[", "https://[::1", "http://a:99999/", "not-a-uri", "https://a/#f"]
)
def test_a_malformed_resource_is_invalid_target_with_state_and_iss(logged_in, web_client, resource):
    query = redirected_error(ask(logged_in, web_client, resource=resource))
    assert query["error"] == "invalid_target"


def test_a_malformed_resource_is_refused_before_sign_in(client, web_client):
    assert redirected_error(ask(client, web_client, resource="http://["))["error"] == "invalid_target"


@pytest.mark.parametrize("prompt", ["create", "create login", "unknown"])
def test_an_unsupported_prompt_value_is_invalid_request(logged_in, web_client, prompt):
    query = redirected_error(ask(logged_in, web_client, prompt=prompt))
    assert query["error"] == "invalid_request" and "prompt" in query["error_description"]


def test_prompt_create_without_a_session_is_invalid_request_not_json(client, web_client):
    query = redirected_error(ask(client, web_client, prompt="create"))
    assert query["error"] == "invalid_request"


def test_discovery_lists_exactly_the_prompt_values_answered(client):
    values = client.get("/.well-known/openid-configuration").json()["prompt_values_supported"]
    assert set(values) == {"none", "login", "consent", "select_account"}


def test_prompt_select_account_shows_the_account_choice_not_a_code(logged_in, web_client, user):
    response = ask(logged_in, web_client, prompt="select_account")
    assert response.status_code == 200 and "Location" not in response
    html = response.content.decode()
    assert "Continue as Alice Liddell" in html and "Use another account" in html
    assert "<script" not in html and "style=" not in html


def test_continue_as_goes_on_without_select_account(logged_in, web_client):
    page = ask(logged_in, web_client, prompt="select_account consent")
    follow = page.context["continue_url"]
    assert urlsplit(follow).path == "/authorize"
    assert query_of(follow)["prompt"] == "consent" and query_of(follow)["state"] == "xyz-state"
    assert logged_in.get(follow).status_code == 200  # the consent page, as prompt=consent asks


def test_use_another_account_signs_in_again_then_returns_without_select_account(logged_in, web_client):
    page = ask(logged_in, web_client, prompt="select_account")
    switch = page.context["switch_url"]
    assert urlsplit(switch).path == "/login"
    returns_to = query_of(switch)["next"]
    assert urlsplit(returns_to).path == "/authorize" and "prompt" not in query_of(returns_to)


def test_prompt_select_account_without_a_session_goes_to_sign_in(client, web_client):
    response = ask(client, web_client, prompt="select_account")
    assert response.status_code == 302 and response["Location"].startswith("/login?next=")
    assert "select_account" not in query_of(response["Location"])["next"]


def test_prompt_select_account_with_none_is_account_selection_required(logged_in, web_client):
    query = redirected_error(ask(logged_in, web_client, prompt="none select_account"))
    assert query["error"] == "account_selection_required"

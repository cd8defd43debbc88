"""Repeated parameters in an authorization request are refused (RFC 6749 §3.1), checked from one parse."""

from urllib.parse import urlencode

import pytest

from tests.conftest import authorize_params, pkce_pair, query_of

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
    response = logged_in.get(
        url_with(web_client, ("resource", "https://a.example.com"), ("resource", "https://b.example.com"))
    )
    assert response.status_code in {200, 302} and "error" not in query_of(response.get("Location", ""))

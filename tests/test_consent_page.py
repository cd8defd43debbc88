"""The consent page: who is asking, what it will see (concrete values), what is new, Allow and Deny."""

import pytest

from idp.consent import record_consent
from tests.conftest import authorize_params, consent_form_data, pkce_pair, query_of

pytestmark = pytest.mark.django_db


def consent_page(client, app, **extra):
    page = client.get("/authorize", authorize_params(app, challenge=pkce_pair()[1], **extra))
    assert page.status_code == 200, page.content[:300]
    return page


def test_shows_the_concrete_values_each_scope_releases(logged_in, web_client):
    page = consent_page(logged_in, web_client, scope="openid profile email phone address")
    html = page.content.decode()
    assert 'Email address: <span class="value">alice@example.com (verified)</span>' in html
    assert 'Name: <span class="value">Alice Liddell</span>' in html
    assert 'Phone number: <span class="value">+441234567890 (verified)</span>' in html
    assert 'Postal address: <span class="value">Oxford, United Kingdom</span>' in html
    assert [item.name for item in page.context["new_scope_items"]] == [
        "openid",
        "profile",
        "email",
        "phone",
        "address",
    ]


def test_offline_access_is_explained(logged_in, web_client):
    page = consent_page(logged_in, web_client, scope="openid offline_access", prompt="consent")
    assert b"Keep access while you are away" in page.content
    assert b"while you are signed out, until you revoke" in page.content


def test_already_granted_and_new_scopes_are_listed_apart(logged_in, user, web_client):
    record_consent(user, web_client, scopes=["openid", "profile"])
    page = consent_page(logged_in, web_client, scope="openid profile email")
    html = page.content.decode()
    assert "now also asks for:" in html
    assert 'data-scope="email"' in html and 'data-scope="profile"' not in html
    assert 'data-granted-scope="profile"' in html and 'data-granted-scope="openid"' in html


def test_unverified_client_carries_a_warning_and_verified_one_a_badge(logged_in, web_client):
    assert b"Unverified app." in consent_page(logged_in, web_client).content
    web_client.is_verified = True
    web_client.save()
    page = consent_page(logged_in, web_client)
    assert b"Unverified app." not in page.content and b"Verified app" in page.content


def test_who_is_asking_with_logo_and_links_but_never_a_script_link(logged_in, web_client):
    web_client.name = "Wonderland Tea"
    web_client.logo_uri = "https://tea.example/logo.png"
    web_client.client_uri = "https://tea.example/"
    web_client.policy_uri = "https://tea.example/privacy"
    web_client.tos_uri = "javascript:alert(1)"
    web_client.save()
    html = consent_page(logged_in, web_client).content.decode()
    assert "Wonderland Tea wants to access your account" in html
    assert 'src="https://tea.example/logo.png"' in html
    assert 'href="https://tea.example/privacy"' in html and ">Privacy policy<" in html
    assert "javascript:" not in html and "Terms of service" not in html


def test_client_name_is_escaped(logged_in, web_client):
    web_client.name = "<script>alert(1)</script>"
    web_client.save()
    html = consent_page(logged_in, web_client).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_allow_is_not_autofocused_and_deny_comes_first(logged_in, web_client):
    html = consent_page(logged_in, web_client).content.decode()
    form = html[html.index('id="consent-form"') :]
    assert "autofocus" not in form
    assert form.index('name="deny"') < form.index('name="allow"')


def test_deny_redirects_with_access_denied_and_remembers_nothing(logged_in, user, web_client):
    page = consent_page(logged_in, web_client)
    response = logged_in.post("/authorize", {**consent_form_data(page), "deny": "1"})
    assert response.status_code == 302
    assert query_of(response["Location"])["error"] == "access_denied"
    assert not user.consents.exists()


def test_individually_requested_claim_is_shown_with_its_value(logged_in, web_client):
    page = consent_page(logged_in, web_client, scope="openid", claims='{"userinfo": {"email": null}}')
    html = page.content.decode()
    assert 'data-claim="email"' in html and "alice@example.com" in html


def test_unknown_client_gets_a_page_in_human_words(logged_in):
    response = logged_in.get(
        "/authorize",
        {"response_type": "code", "client_id": "<b>nobody</b>", "redirect_uri": "https://x.example/cb"},
    )
    assert response.status_code == 400
    assert b"is not registered with this service" in response.content
    assert b"<b>nobody</b>" not in response.content


@pytest.mark.parametrize("button", ["deny", "allow"])
@pytest.mark.parametrize(
    "tampered",
    [
        {"redirect_uri": "https://evil.example/cb"},
        {"redirect_uri": "http://["},
        {"client_id": "nobody"},
        {"client_id": "other-client"},  # registered, but not with this redirect URI
    ],
)
def test_a_tampered_consent_form_gets_a_page_never_a_redirect(
    logged_in, user, web_client, other_client, button, tampered
):
    other_client.redirect_uris = "https://other.example/cb"
    other_client.save()
    page = consent_page(logged_in, web_client)
    response = logged_in.post("/authorize", {**consent_form_data(page), **tampered, button: "1"})
    assert response.status_code == 400 and "Location" not in response
    assert b"cannot be completed" in response.content
    assert not user.consents.exists()


@pytest.mark.parametrize("missing", ["client_id", "redirect_uri", "response_type", "scope"])
def test_an_incomplete_consent_form_gets_a_page_not_a_500(logged_in, web_client, missing):
    page = consent_page(logged_in, web_client)
    data = {key: value for key, value in consent_form_data(page).items() if key != missing}
    response = logged_in.post("/authorize", {**data, "allow": "1"})
    assert response.status_code == 400 and "Location" not in response
    assert b"cannot be completed" in response.content


def test_a_malformed_resource_in_the_consent_form_is_invalid_target(logged_in, web_client):
    page = consent_page(logged_in, web_client)
    response = logged_in.post("/authorize", {**consent_form_data(page), "resource": "http://[", "allow": "1"})
    assert response.status_code == 302
    query = query_of(response["Location"])
    assert response["Location"].startswith("https://rp.example.com/callback?")
    assert query["error"] == "invalid_target" and query["state"] == "xyz-state"

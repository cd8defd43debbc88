"""The OpenAPI schema and the interactive docs of the resource API."""

import json
import re

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import Client

from idp.conf import idp_settings
from idp.models import Application
from project.accounts.models import User
from tests.conftest import ISSUER, consent_form_data, pkce_pair, query_of

pytestmark = pytest.mark.django_db


def schema(client) -> dict:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return json.loads(response.content)


def test_schema_lists_every_operation_with_its_scope(client):
    doc = schema(client)
    assert doc["openapi"].startswith("3.")
    security = {
        (path, method): op["security"] for path, ops in doc["paths"].items() for method, op in ops.items()
    }
    assert security == {
        ("/api/v1/me", "get"): [{"oauth2": ["profile"]}],
        ("/api/v1/me/consents", "get"): [{"oauth2": ["consents:manage"]}],
        ("/api/v1/me/consents/{client_id}", "delete"): [{"oauth2": ["consents:manage"]}],
        ("/api/v1/users", "get"): [{"oauth2": ["users:read"]}],
        ("/api/v1/users/{sub}", "get"): [{"oauth2": ["users:read"]}],
    }
    me = doc["paths"]["/api/v1/me"]["get"]["responses"]
    assert {"200", "400", "401", "403", "429"} <= set(me)
    assert me["403"]["headers"]["WWW-Authenticate"]["required"] is True
    assert me["429"]["headers"]["Retry-After"]["required"] is True
    filters = {p["name"] for p in doc["paths"]["/api/v1/users"]["get"]["parameters"]}
    assert {"page", "page_size", "username", "email", "is_active", "updated_since"} <= filters


def test_security_scheme_points_at_our_own_endpoints(client, settings):
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": "http://127.0.0.1:9000"}
    doc = schema(client)
    assert doc["servers"] == [{"url": "http://127.0.0.1:9000"}]
    flows = doc["components"]["securitySchemes"]["oauth2"]["flows"]
    code = flows["authorizationCode"]
    assert code["authorizationUrl"] == "http://127.0.0.1:9000/authorize"
    assert code["tokenUrl"] == "http://127.0.0.1:9000/token"
    assert {"profile", "consents:manage"} <= set(code["scopes"]) and "users:read" not in code["scopes"]
    assert flows["clientCredentials"] == {
        "tokenUrl": "http://127.0.0.1:9000/token",
        "scopes": {"users:read": "Read the directory of user accounts (services only)"},
    }


def test_schema_and_docs_need_no_token(client):
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200


def test_docs_authorize_with_the_demo_spa_and_pkce_from_self_hosted_assets(client):
    page = client.get("/api/docs/").content.decode()
    assert '"clientId": "demo-spa"' in page
    assert '"usePkceWithAuthorizationCodeGrant": true' in page
    assert f'"oauth2RedirectUrl": "{ISSUER}/api/docs/oauth2-redirect.html"' in page
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")


def test_docs_oauth2_redirect_page_is_served_by_django_with_the_sites_headers(client):
    """Not a redirect to a static file: the popup's last page needs the sign-in pages' opener policy."""
    response = client.get("/api/docs/oauth2-redirect.html", {"code": "abc", "state": "xyz", "iss": ISSUER})
    assert response.status_code == 200
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["Content-Security-Policy"].startswith("default-src 'self'")
    assert response["Referrer-Policy"] == "no-referrer"
    page = response.content.decode()
    assert '<script src="/static/drf_spectacular_sidecar/swagger-ui-dist/oauth2-redirect.js">' in page
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/oauth2-redirect.js")


def test_docs_page_has_no_inline_script_or_style_under_the_sites_policy(client):
    """L-14: the site's CSP (script-src 'self', style-src 'self') blocks inline code; the page has none."""
    response = client.get("/api/docs/")
    assert response["Content-Security-Policy"] == idp_settings.CONTENT_SECURITY_POLICY
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    page = response.content.decode()
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, flags=re.S)
    assert scripts and all(" src=" in attrs or 'type="application/json"' in attrs for attrs, _ in scripts)
    assert all(not body.strip() for attrs, body in scripts if " src=" in attrs)
    assert "<style" not in page and " style=" not in page
    assert "/static/idp/api_docs.js" in page and "/static/idp/api_docs.css" in page
    assert finders.find("idp/api_docs.js") and finders.find("idp/api_docs.css")


def test_demo_spa_can_authorize_the_docs(client):
    """The demo public client may send the docs' redirect URI, with PKCE, and get a code back there."""
    call_command("idp_load_demo")
    spa = Application.objects.get(client_id="demo-spa")
    logged_in = Client()
    logged_in.force_login(User.objects.get(username="alice"))
    redirect_uri = f"{ISSUER}/api/docs/oauth2-redirect.html"
    verifier, challenge = pkce_pair()
    params = {
        "response_type": "code",
        "client_id": "demo-spa",
        "redirect_uri": redirect_uri,
        "scope": "profile consents:manage",
        "state": "swagger-state",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    page = logged_in.get("/authorize", params)
    assert page.status_code == 200, page.content[:300]
    response = logged_in.post("/authorize", {**consent_form_data(page), "allow": "1"})
    assert response["Location"].startswith(redirect_uri + "?")
    code = query_of(response["Location"])["code"]
    token = client.post(
        "/token",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": spa.client_id,
            "code_verifier": verifier,
        },
    ).json()
    assert set(token["scope"].split()) == {"profile", "consents:manage"}
    me = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token['access_token']}")
    assert me.status_code == 200 and me.json()["preferred_username"] == "alice"

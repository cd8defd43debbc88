"""A relying party (Authlib) and its user's browser (requests), talking to the live provider over HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session

from oidc_selftest.forms import forms_of

from .live_server import REQUEST_TIMEOUT, LiveIdp

REDIRECT_URI = "http://127.0.0.1:8765/callback"
# offline_access (so a refresh token is issued) is honoured only with prompt=consent, which also
# makes the consent page appear every time, remembered consent or not.
SCOPE = "openid profile email offline_access"
WEB = ("demo-web", "demo-web-secret")
OTHER_WEB = ("demo-web-2", "demo-web-2-secret")
SERVICE = ("demo-service", "demo-service-secret")
ALICE = {"username": "alice", "password": "alice-demo-password"}


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def fetch_discovery(live_idp: LiveIdp) -> dict:
    response = requests.get(live_idp.discovery_url, timeout=REQUEST_TIMEOUT)
    assert response.status_code == 200, response.text
    return response.json()


def client_session(client: tuple[str, str], **kwargs) -> OAuth2Session:
    """An Authlib client authenticating with HTTP basic (client_secret_basic)."""
    client_id, secret = client
    return OAuth2Session(
        client_id=client_id,
        client_secret=secret,
        token_endpoint_auth_method="client_secret_basic",
        default_timeout=REQUEST_TIMEOUT,
        **kwargs,
    )


def token_request(token_endpoint: str, client: tuple[str, str], **data) -> requests.Response:
    """A raw token request, for answers Authlib would turn into exceptions."""
    return requests.post(token_endpoint, data=data, auth=client, timeout=REQUEST_TIMEOUT)


def sign_in_and_allow(discovery: dict, authorization_url: str, credentials: dict[str, str] = ALICE) -> str:
    """Be alice's browser: follow to the login page, sign in, allow on the consent page; return Location."""
    with requests.Session() as browser:
        login_page = browser.get(authorization_url, timeout=REQUEST_TIMEOUT)
        assert login_page.status_code == 200, login_page.text[:500]
        assert urlsplit(login_page.url).path == "/login", login_page.url
        (login_form,) = forms_of(login_page.text)
        fields = login_form.values()
        assert fields["csrfmiddlewaretoken"]
        assert urlsplit(fields["next"]).path == urlsplit(discovery["authorization_endpoint"]).path

        consent_page = browser.post(
            urljoin(login_page.url, login_form.attrs["action"]),
            data={
                "csrfmiddlewaretoken": fields["csrfmiddlewaretoken"],
                "next": fields["next"],
                **credentials,
            },
            headers={"Referer": login_page.url},
            timeout=REQUEST_TIMEOUT,
        )
        assert consent_page.status_code == 200, consent_page.text[:500]
        assert consent_page.url.startswith(discovery["authorization_endpoint"]), consent_page.url
        (consent_form,) = (
            form for form in forms_of(consent_page.text) if form.attrs.get("id") == "consent-form"
        )
        hidden = {
            field["name"]: field.get("value", "")
            for field in consent_form.fields
            if field.get("type") == "hidden"
        }
        assert hidden["csrfmiddlewaretoken"]

        # The consent form has no action: a browser posts it back to the page's own URL.
        answer = browser.post(
            consent_page.url,
            data={**hidden, "allow": "1"},
            headers={"Referer": consent_page.url},
            allow_redirects=False,
            timeout=REQUEST_TIMEOUT,
        )
        assert answer.status_code == 302, answer.text[:500]
        return answer.headers["Location"]


@dataclass
class Authorized:
    """What the relying party holds after the code exchange."""

    oauth: OAuth2Session
    token: dict
    state: str
    nonce: str
    location: str


def authorize_alice(discovery: dict) -> Authorized:
    """The authorization code flow with PKCE S256 for alice at demo-web, exchanged by Authlib."""
    oauth = client_session(WEB, scope=SCOPE, redirect_uri=REDIRECT_URI, code_challenge_method="S256")
    verifier = generate_token(48)
    nonce = generate_token(20)
    authorization_url, state = oauth.create_authorization_url(
        discovery["authorization_endpoint"],
        state=generate_token(20),
        nonce=nonce,
        code_verifier=verifier,
        prompt="consent",
    )
    location = sign_in_and_allow(discovery, authorization_url)
    token = oauth.fetch_token(
        discovery["token_endpoint"], authorization_response=location, code_verifier=verifier, state=state
    )
    return Authorized(oauth=oauth, token=dict(token), state=state, nonce=nonce, location=location)

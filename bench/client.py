"""The benchmark's relying party: its authorization request, a signed-in browser, the code exchange.

It scrapes the consent page with the self-test's form parser and makes PKCE pairs with its helper
(``oidc_selftest.forms``, ``oidc_selftest.pkce``): one client for the repository's relying parties.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from oidc_selftest.forms import forms_of
from oidc_selftest.pkce import pkce_pair

CLIENT = ("demo-web", "demo-web-secret")
REDIRECT_URI = "http://127.0.0.1:8765/callback"
SCOPE = "openid profile email"
TIMEOUT = 10


def authorization_url(base: str, challenge: str) -> str:
    """The benchmark client's authorization request for ``SCOPE``, with this PKCE challenge."""
    query = {
        "response_type": "code",
        "client_id": CLIENT[0],
        "redirect_uri": REDIRECT_URI,
        "scope": SCOPE,
        "state": "s",
        "nonce": "n",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    return f"{base}/authorize?{urlencode(query)}"


def approval(html: str) -> list[tuple[str, str]]:
    """What a browser posts when the person clicks Allow on the consent page ``html``."""
    consent = next(form for form in forms_of(html) if form.button("allow") is not None)
    return consent.submission("allow", {})


def sign_in(base: str, username: str, password: str) -> requests.Session:
    """A browser session with remembered consent for the benchmark client."""
    browser = requests.Session()
    page = browser.get(f"{base}/login", timeout=TIMEOUT)
    csrf = page.cookies.get("csrftoken") or browser.cookies.get("csrftoken")
    response = browser.post(
        f"{base}/login",
        data={"csrfmiddlewaretoken": csrf, "username": username, "password": password},
        headers={"Referer": f"{base}/login"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert response.status_code == 302, f"login failed for {username}: {response.status_code}"
    # First authorization: approve the consent page once, so later flows are silent.
    _verifier, challenge = pkce_pair()
    page = browser.get(authorization_url(base, challenge), allow_redirects=False, timeout=TIMEOUT)
    if page.status_code == 200:
        page = browser.post(
            page.url,
            data=approval(page.text),
            headers={"Referer": page.url},
            allow_redirects=False,
            timeout=TIMEOUT,
        )
    assert page.status_code == 302 and "code=" in page.headers["Location"], "consent failed"
    return browser


def code_exchange(authorize_response: requests.Response, verifier: str) -> dict[str, str]:
    """The token request's form for the code in an authorization response's redirect."""
    code = parse_qs(urlsplit(authorize_response.headers["Location"]).query)["code"][0]
    return {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
    }


def obtain_user_token(base: str, browser: requests.Session) -> str:
    """An access token of ``browser``'s person, for the single-endpoint measurements."""
    verifier, challenge = pkce_pair()
    response = browser.get(authorization_url(base, challenge), allow_redirects=False, timeout=TIMEOUT)
    data = code_exchange(response, verifier)
    return requests.post(f"{base}/token", data=data, auth=CLIENT, timeout=TIMEOUT).json()["access_token"]

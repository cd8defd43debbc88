"""What each step, break, error and claim of a run means, in plain words, with links to the spec section."""

from __future__ import annotations

from dataclasses import dataclass

from .meanings import CLAIMS, ERRORS, INTROSPECTION_MEMBERS

__all__ = [
    "BREAKS",
    "CLAIMS",
    "ERRORS",
    "INTROSPECTION_MEMBERS",
    "STEPS",
    "BreakInfo",
    "SpecLink",
    "StepInfo",
]

OIDC_CORE = "https://openid.net/specs/openid-connect-core-1_0.html"
OIDC_DISCOVERY = "https://openid.net/specs/openid-connect-discovery-1_0.html"


@dataclass(frozen=True)
class SpecLink:
    """A link to one section of a specification: ``RFC 7636 §4.5`` and its URL with the section anchor."""

    label: str
    url: str


@dataclass(frozen=True)
class StepInfo:
    """Why a step of a flow exists: its title, two or three plain sentences, what it protects against."""

    title: str
    why: str
    protects: str
    links: tuple[SpecLink, ...]


@dataclass(frozen=True)
class BreakInfo:
    """A step broken on purpose: what a real client does to hit it and what the provider answers, and why."""

    label: str
    how: str
    answer: str
    links: tuple[SpecLink, ...]


def rfc(number: int, section: str) -> SpecLink:
    """RFC ``number`` at ``section`` (``"4.1.3"``), on the RFC Editor's site."""
    return SpecLink(
        f"RFC {number} §{section}", f"https://www.rfc-editor.org/rfc/rfc{number}.html#section-{section}"
    )


def oidc(anchor: str, section: str) -> SpecLink:
    """OpenID Connect Core 1.0 at the named ``anchor`` (its section number shown)."""
    return SpecLink(f"OpenID Connect Core §{section}", f"{OIDC_CORE}#{anchor}")


STEPS: dict[str, StepInfo] = {
    "start": StepInfo(
        "The person starts the flow",
        "The person clicks “sign in” at the app (the relying party). The app does not ask for a password: "
        "it sends the browser to the authorization server, so the person's password is only ever typed "
        "there.",
        "Apps collecting passwords: the app never sees the person's credentials.",
        (rfc(6749, "1.3.1"), oidc("CodeFlowSteps", "3.1.1")),
    ),
    "authorization_request": StepInfo(
        "Authorization request",
        "The browser arrives at /authorize with the app's client_id, its redirect_uri, the scopes it "
        "wants, a random state and nonce, and a code_challenge: the hash of a secret code_verifier the "
        "app keeps. The server checks the client and the redirect_uri before anything else.",
        "state protects the app against cross-site request forgery (a callback it did not start); "
        "nonce against a replayed ID token; the code_challenge (PKCE) against a stolen or injected code.",
        (rfc(6749, "4.1.1"), rfc(7636, "4.3"), oidc("AuthRequest", "3.1.2.1"), rfc(9700, "2.1.1")),
    ),
    "sign_in": StepInfo(
        "Sign-in",
        "The authorization server checks who the person is, on its own page. How it does so (password, "
        "passkey) is its own business: the app only learns the result, in the ID token.",
        "Credential theft by apps: the password goes to the server that holds it, nowhere else.",
        (oidc("Authenticates", "3.1.2.3"),),
    ),
    "second_factor": StepInfo(
        "Second sign-in step",
        "The person proves a second factor (an authenticator app code, a recovery code, a passkey). The "
        "ID token says how the person signed in, in amr and acr, so an app can ask for more when it "
        "matters.",
        "A stolen password alone is not enough to sign in.",
        (oidc("IDToken", "2"), rfc(8176, "2")),
    ),
    "consent": StepInfo(
        "Consent",
        "The server asks the person whether this app may have what it asked for (the scopes), and "
        "remembers the answer. Once allowed, it sends the browser back to the app's redirect_uri with a "
        "one-time code.",
        "Apps taking data the person never agreed to share.",
        (oidc("Consent", "3.1.2.4"), rfc(6749, "4.1.2")),
    ),
    "authorization_response": StepInfo(
        "Authorization response (the callback)",
        "The browser brings the app a short-lived code, the state it sent, and iss: who issued the code. "
        "The app checks state against the one it stored for this browser and iss against the server it "
        "meant to use, before it exchanges the code.",
        "state stops cross-site request forgery; iss stops mix-up attacks, where an app talking to several "
        "servers is tricked into sending one server's code to another.",
        (rfc(6749, "4.1.2"), rfc(9207, "2"), rfc(9700, "4.4"), rfc(9700, "4.7")),
    ),
    "discovery": StepInfo(
        "Discovery",
        "The app reads the server's metadata: where its endpoints are, which scopes, algorithms and "
        "client authentication methods it supports, and where its signing keys are published.",
        "Configuration by hand going stale: the server states what it does.",
        (SpecLink("OpenID Connect Discovery §4", f"{OIDC_DISCOVERY}#ProviderConfig"), rfc(8414, "3")),
    ),
    "token_request": StepInfo(
        "Token request",
        "The app's back end sends the code to /token, with the code_verifier whose hash was the "
        "code_challenge, the same redirect_uri, and its client authentication (a secret, for a "
        "confidential client). The server answers with the tokens. This request never passes through the "
        "browser.",
        "PKCE: a code stolen on its way through the browser is useless without the verifier; the client "
        "secret proves which app is asking.",
        (rfc(6749, "4.1.3"), rfc(7636, "4.5"), oidc("TokenRequest", "3.1.3.1"), rfc(6749, "2.3.1")),
    ),
    "jwks": StepInfo(
        "Signing keys (JWKS)",
        "The app fetches the server's public keys to verify the ID token's signature. The kid in the "
        "token's header names the key; a key it does not know yet means the server rotated its keys, so "
        "the app fetches the set again.",
        "Forged ID tokens: only the holder of the private key can sign one the app accepts.",
        (rfc(7517, "5"), oidc("RotateSigKeys", "10.1.1"), oidc("IDTokenValidation", "3.1.3.7")),
    ),
    "userinfo": StepInfo(
        "Userinfo",
        "The app asks the userinfo endpoint for the person's claims (name, email...), showing the access "
        "token as a bearer token. The sub it answers must be the ID token's.",
        "Claims about the wrong person: the app matches sub with the ID token.",
        (oidc("UserInfo", "5.3"), rfc(6750, "2.1")),
    ),
    "api_call": StepInfo(
        "API call",
        "The app calls an API with the access token in the Authorization header. The API checks the "
        "token and its scopes, and answers 401 with a WWW-Authenticate challenge when they do not "
        "suffice.",
        "Access beyond what the person allowed: the token carries only the granted scopes.",
        (rfc(6750, "2.1"), rfc(6750, "3.1")),
    ),
    "introspection": StepInfo(
        "Introspection",
        "An access token here is opaque: a random string only this server can read. A resource server "
        "(or the app) asks the introspection endpoint whether it is active, and for whom and which scopes.",
        "Trusting a revoked or expired token: the server answers active: false.",
        (rfc(7662, "2.1"), rfc(7662, "2.2")),
    ),
    "refresh": StepInfo(
        "Refresh",
        "When the access token expires, the app trades its refresh token for new tokens, without the "
        "person. The server rotates refresh tokens: each is good once, and the answer carries its "
        "successor.",
        "A stolen refresh token: once either copy is used twice, the server revokes the whole family.",
        (rfc(6749, "6"), rfc(9700, "4.14.2"), oidc("RefreshTokens", "12")),
    ),
    "revocation": StepInfo(
        "Revocation",
        "The app tells the server it no longer needs a token (at sign-out, say). Revoking a refresh token "
        "also revokes the access tokens issued with it.",
        "Tokens outliving their use.",
        (rfc(7009, "2.1"), rfc(7009, "2.2")),
    ),
    "device_authorization": StepInfo(
        "Device authorization",
        "A device without a browser (a TV, a command line) asks for a device code and a short user code, "
        "and shows the person where to type it.",
        "Typing a password on a device with a poor keyboard, or a shared one.",
        (rfc(8628, "3.1"), rfc(8628, "3.2")),
    ),
    "device_verification": StepInfo(
        "Device verification",
        "On a phone or a computer the person opens the verification page, signs in, types the user code "
        "and approves the device.",
        "A code typed by the wrong person: the page says which app asks before the person approves.",
        (rfc(8628, "3.3"),),
    ),
    "device_poll": StepInfo(
        "Device polling",
        "Meanwhile the device asks /token, at the interval it was given, whether the person has "
        "answered: authorization_pending until then, slow_down if it asks too often, then the tokens "
        "(or access_denied, expired_token).",
        "A device flooding the server: slow_down makes it wait longer.",
        (rfc(8628, "3.4"), rfc(8628, "3.5")),
    ),
    "client_credentials": StepInfo(
        "Client credentials",
        "A service asks for a token for itself, with no person involved, authenticating with its own "
        "secret. The token carries only the service scopes the client is allowed.",
        "Services borrowing a person's identity: there is no person, so no ID token and no refresh token.",
        (rfc(6749, "4.4"), rfc(6749, "2.3.1")),
    ),
}

BREAKS: dict[str, BreakInfo] = {
    "no_pkce": BreakInfo(
        "Drop PKCE",
        "The app sends no code_challenge: an old library, or PKCE switched off because the app has a secret.",
        "The server requires PKCE with S256 (OAuth 2.1, RFC 9700; only a confidential client the operator "
        "allowed may send a nonce instead), so it refuses the request: it sends the browser back to the "
        "app with error=invalid_request, and no code.",
        (rfc(7636, "4.4.1"), rfc(9700, "2.1.1")),
    ),
    "wrong_redirect_uri": BreakInfo(
        "Wrong redirect_uri",
        "The token request names a redirect_uri other than the one in the authorization request: a "
        "trailing slash, http for https, another environment's callback.",
        "The server answers invalid_grant: the code was issued for one redirect_uri, and an attacker who "
        "had the code sent somewhere else must not be able to use it.",
        (rfc(6749, "4.1.3"), rfc(6749, "10.6")),
    ),
    "reuse_code": BreakInfo(
        "Reuse the code",
        "The app exchanges the same code twice: a retry after a timeout, a double click, or an attacker "
        "replaying a code it intercepted.",
        "The second exchange answers invalid_grant, and the server revokes every token the first one "
        "issued: a code seen twice may have leaked.",
        (rfc(6749, "4.1.2"), rfc(6749, "10.5")),
    ),
    "wrong_verifier": BreakInfo(
        "Wrong code_verifier",
        "The token request carries a code_verifier that does not hash to the code_challenge: a verifier "
        "lost between requests (another tab, a new session), or an attacker holding only the code.",
        "The server answers invalid_grant: only whoever made the challenge can redeem the code.",
        (rfc(7636, "4.6"), rfc(9700, "4.5")),
    ),
    "expired_code": BreakInfo(
        "Expired code",
        "The app exchanges the code after its lifetime (a minute, unless the operator changed it): a "
        "slow back end, a queued job.",
        "The server answers invalid_grant: codes are meant to be exchanged at once, so a leaked one is "
        "useful for as short a time as possible.",
        (rfc(6749, "4.1.2"), rfc(6749, "10.5")),
    ),
    "wrong_secret": BreakInfo(
        "Wrong client secret",
        "The app authenticates with a wrong secret: an old one after a rotation, another environment's, "
        "or one mangled by quoting.",
        "The server answers invalid_client and issues nothing: 401 with a Basic challenge when the secret "
        "came in the Authorization header, 400 when it came in the body.",
        (rfc(6749, "5.2"), rfc(6749, "2.3.1")),
    ),
    "reuse_refresh_token": BreakInfo(
        "Reuse a refresh token",
        "The app refreshes with a refresh token it already used: two tabs or workers refreshing at once, "
        "or an attacker with a copy.",
        "The server answers invalid_grant and revokes the whole family of tokens: with rotation, a "
        "refresh token used twice means it leaked.",
        (rfc(9700, "4.14.2"), rfc(6749, "10.4")),
    ),
}

"""Hand-built explorer runs (records.Exchange) for the presentation tests and the preview page."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime
from urllib.parse import quote

from jwcrypto import jwk, jwt

from idp.explorer.records import Exchange, RecordedRequest, RecordedResponse
from idp.explorer.token_report import at_hash

ISSUER = "https://idp.example.com"
CLIENT_ID = "explorer-web"
CALLBACK = f"{ISSUER}/developers/flows/callback"
SENT_AT = datetime(2025, 1, 1, tzinfo=UTC)
CLIENT_SECRET = "s3cr3t-of-the-client-0123456789abcdefghijklmnop"
CODE = "c0de-of-the-run-1234567890abcdefghij"
VERIFIER = "verifier-0123456789abcdefghijklmnopqrstuvwxyzABCDEF"
CHALLENGE = "challenge-0123456789abcdefghijklmnopqrstuvwxyzAB"
STATE = "state-0123456789abcdef"
NONCE = "nonce-0123456789abcdef"
ACCESS_TOKEN = "access-token-of-the-run-0123456789abcdef"
REFRESH_TOKEN = "refresh-token-of-the-run-0123456789abcdef"
PASSWORD = "hunter2-the-persons-password"
CSRF_TOKEN = "csrf-token-0123456789abcdefghijklmnop"
FORM = ("Content-Type", "application/x-www-form-urlencoded")
JSON = ("Content-Type", "application/json")
BASIC = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()


def signing_key(alg: str = "RS256", kid: str = "test-key") -> jwk.JWK:
    """A private key made for the test: RSA 2048 for RS256, P-256 for ES256."""
    if alg == "ES256":
        return jwk.JWK.generate(kty="EC", crv="P-256", kid=kid, alg=alg, use="sig")
    return jwk.JWK.generate(kty="RSA", size=2048, kid=kid, alg=alg, use="sig")


def jwks_of(*keys: jwk.JWK) -> dict:
    """The public JWKS of ``keys``, as the server serves it."""
    return {"keys": [json.loads(key.export_public()) for key in keys]}


def id_token(key: jwk.JWK, **overrides) -> str:
    """An ID token for CLIENT_ID, signed with ``key`` (its ``alg``), valid for an hour; ``overrides``
    change or (with None) remove claims."""
    now = int(time.time())
    alg = key.get("alg")
    claims = {
        "iss": ISSUER,
        "sub": "248289761001",
        "aud": CLIENT_ID,
        "azp": CLIENT_ID,
        "exp": now + 3600,
        "iat": now,
        "auth_time": now - 5,
        "nonce": NONCE,
        "at_hash": at_hash(ACCESS_TOKEN, alg=alg),
        "amr": ["pwd"],
        "jti": "9f1c7d1e-0000-4000-8000-000000000000",
    }
    claims.update(overrides)
    claims = {name: value for name, value in claims.items() if value is not None}
    token = jwt.JWT(header={"alg": alg, "kid": key.get("kid"), "typ": "JWT"}, claims=claims)
    token.make_signed_token(key)
    return token.serialize()


def exchange(
    seq,
    step,
    source,
    target,
    method,
    url,
    status,
    *,
    headers=(),
    body="",
    response_headers=(),
    response_body="",
    broken="",
    notes=(),
) -> Exchange:
    return Exchange(
        seq=seq,
        step=step,
        source=source,
        target=target,
        request=RecordedRequest(method, url, tuple(headers), body),
        response=RecordedResponse(status, "", tuple(response_headers), response_body),
        sent_at=SENT_AT,
        broken=broken,
        notes=tuple(notes),
    )


def web_run(key: jwk.JWK | None = None, *, broken_secret: bool = False) -> list[Exchange]:
    """A web-app run: start, authorization request, sign-in (a password), consent (a CSRF token), the
    callback, the token request (Basic client authentication), the JWKS, userinfo."""
    key = key or signing_key()
    authorize = (
        f"{ISSUER}/authorize?response_type=code&client_id={CLIENT_ID}&redirect_uri={quote(CALLBACK, safe='')}"
        f"&scope=openid+profile&state={STATE}&nonce={NONCE}&code_challenge={CHALLENGE}&code_challenge_method=S256"
    )
    callback = f"{CALLBACK}?code={CODE}&state={STATE}&iss={quote(ISSUER, safe='')}"
    token_body = (
        f"grant_type=authorization_code&code={CODE}&redirect_uri={quote(CALLBACK, safe='')}"
        f"&code_verifier={VERIFIER}"
    )
    tokens = {
        "access_token": ACCESS_TOKEN,
        "token_type": "Bearer",
        "expires_in": 3600,
        "refresh_token": REFRESH_TOKEN,
        "id_token": id_token(key),
        "scope": "openid profile",
    }
    token_request = exchange(
        6,
        "token_request",
        "rp",
        "token",
        "POST",
        f"{ISSUER}/token",
        200,
        headers=[("Authorization", BASIC), FORM, ("Accept", "application/json")],
        body=token_body,
        response_headers=[JSON, ("Cache-Control", "no-store")],
        response_body=json.dumps(tokens),
    )
    if broken_secret:
        wrong = "Basic " + base64.b64encode(f"{CLIENT_ID}:wrong-secret-0123456789abcdef".encode()).decode()
        token_request = exchange(
            6,
            "token_request",
            "rp",
            "token",
            "POST",
            f"{ISSUER}/token",
            401,
            headers=[("Authorization", wrong), FORM],
            body=token_body,
            response_headers=[JSON, ("WWW-Authenticate", 'Basic realm="token", charset="UTF-8"')],
            response_body=json.dumps(
                {"error": "invalid_client", "error_description": "Client authentication failed."}
            ),
            broken="wrong_secret",
            notes=["The explorer sent a wrong client secret, as asked."],
        )
    return [
        exchange(
            1,
            "start",
            "browser",
            "rp",
            "POST",
            f"{ISSUER}/developers/flows/start",
            302,
            response_headers=[("Location", authorize)],
        ),
        exchange(
            2,
            "authorization_request",
            "browser",
            "authorize",
            "GET",
            authorize,
            302,
            response_headers=[("Location", "/login?next=/authorize")],
        ),
        exchange(
            3,
            "sign_in",
            "browser",
            "authorize",
            "POST",
            f"{ISSUER}/login",
            302,
            headers=[FORM, ("Cookie", "sessionid=abc; csrftoken=def")],
            body=f"username=alice&password={PASSWORD}&csrfmiddlewaretoken={CSRF_TOKEN}",
            response_headers=[("Location", authorize), ("Set-Cookie", "sessionid=new; HttpOnly")],
        ),
        exchange(
            4,
            "consent",
            "browser",
            "authorize",
            "POST",
            authorize,
            302,
            headers=[FORM],
            body=f"allow=Allow&csrfmiddlewaretoken={CSRF_TOKEN}",
            response_headers=[("Location", callback)],
        ),
        exchange(
            5,
            "authorization_response",
            "browser",
            "rp",
            "GET",
            callback,
            200,
            response_headers=[("Content-Type", "text/html; charset=utf-8")],
            response_body="[HTML page: Flow explorer]",
        ),
        token_request,
        exchange(
            7,
            "jwks",
            "rp",
            "keys",
            "GET",
            f"{ISSUER}/.well-known/jwks.json",
            200,
            response_headers=[JSON],
            response_body=json.dumps(jwks_of(key)),
        ),
        exchange(
            8,
            "userinfo",
            "rp",
            "userinfo",
            "GET",
            f"{ISSUER}/userinfo",
            200,
            headers=[("Authorization", f"Bearer {ACCESS_TOKEN}")],
            response_headers=[JSON],
            response_body=json.dumps({"sub": "248289761001", "name": "Alice Liddell"}),
        ),
    ]


def full_web_run(key: jwk.JWK | None = None) -> list[Exchange]:
    """``web_run``, then the code reused, a refresh, the old refresh token reused, an introspection."""
    run = web_run(key)
    token_request = run[5]
    basic = [("Authorization", BASIC), FORM]
    refresh_body = f"grant_type=refresh_token&refresh_token={REFRESH_TOKEN}"
    rotated = {"access_token": "second-" + ACCESS_TOKEN, "refresh_token": "second-" + REFRESH_TOKEN}
    invalid_grant = json.dumps({"error": "invalid_grant", "error_description": "Invalid grant."})
    return [
        *run,
        exchange(
            9,
            "token_request",
            "rp",
            "token",
            "POST",
            f"{ISSUER}/token",
            400,
            headers=basic,
            body=token_request.request.body,
            response_headers=[JSON],
            response_body=invalid_grant,
            broken="reuse_code",
        ),
        exchange(
            10,
            "refresh",
            "rp",
            "token",
            "POST",
            f"{ISSUER}/token",
            200,
            headers=basic,
            body=refresh_body,
            response_headers=[JSON],
            response_body=json.dumps({**rotated, "token_type": "Bearer", "expires_in": 3600}),
        ),
        exchange(
            11,
            "refresh",
            "rp",
            "token",
            "POST",
            f"{ISSUER}/token",
            400,
            headers=basic,
            body=refresh_body,
            response_headers=[JSON],
            response_body=invalid_grant,
            broken="reuse_refresh_token",
        ),
        exchange(
            12,
            "introspection",
            "rp",
            "token",
            "POST",
            f"{ISSUER}/introspect",
            200,
            headers=basic,
            body=f"token={rotated['access_token']}",
            response_headers=[JSON],
            response_body=json.dumps({"active": True, "scope": "openid profile", "client_id": CLIENT_ID}),
        ),
    ]


DEVICE_CODE = "device-code-of-the-run-0123456789abcdef"


def device_run(client_id: str = "demo-device") -> list[Exchange]:
    """A device run: the device authorization, the person at /device, three polls (two pending)."""
    poll_body = (
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code"
        f"&device_code={DEVICE_CODE}&client_id={client_id}"
    )
    pending = json.dumps({"error": "authorization_pending"})
    polls = [
        exchange(
            seq,
            "device_poll",
            "rp",
            "token",
            "POST",
            f"{ISSUER}/token",
            status,
            headers=[FORM],
            body=poll_body,
            response_headers=[JSON],
            response_body=answer,
        )
        for seq, status, answer in (
            (3, 400, pending),
            (4, 400, pending),
            (5, 200, json.dumps({"access_token": ACCESS_TOKEN, "token_type": "Bearer", "expires_in": 3600})),
        )
    ]
    authorization = {
        "device_code": DEVICE_CODE,
        "user_code": "WDJB-MJHT",
        "verification_uri": f"{ISSUER}/device",
        "verification_uri_complete": f"{ISSUER}/device?user_code=WDJB-MJHT",
        "expires_in": 600,
        "interval": 5,
    }
    return [
        exchange(
            1,
            "device_authorization",
            "rp",
            "token",
            "POST",
            f"{ISSUER}/device-authorization",
            200,
            headers=[FORM],
            body=f"client_id={client_id}&scope=openid+profile",
            response_headers=[JSON],
            response_body=json.dumps(authorization),
        ),
        exchange(
            2,
            "device_verification",
            "browser",
            "authorize",
            "POST",
            f"{ISSUER}/device",
            200,
            headers=[FORM],
            body=f"user_code=WDJB-MJHT&csrfmiddlewaretoken={CSRF_TOKEN}",
            response_body="[HTML page: Device approved]",
        ),
        *polls,
    ]


def client_credentials_run(client_id: str = "demo-service", scope: str = "users:read") -> list[Exchange]:
    """A client credentials run: the token request (client_secret_basic), then an API call."""
    basic = "Basic " + base64.b64encode(f"{quote(client_id, safe='')}:{CLIENT_SECRET}".encode()).decode()
    return [
        exchange(
            1,
            "client_credentials",
            "rp",
            "token",
            "POST",
            f"{ISSUER}/token",
            200,
            headers=[("Authorization", basic), FORM],
            body=f"grant_type=client_credentials&scope={quote(scope)}",
            response_headers=[JSON],
            response_body=json.dumps(
                {"access_token": ACCESS_TOKEN, "token_type": "Bearer", "expires_in": 3600}
            ),
        ),
        exchange(
            2,
            "api_call",
            "rp",
            "api",
            "GET",
            f"{ISSUER}/api/v1/users?limit=5",
            200,
            headers=[("Authorization", f"Bearer {ACCESS_TOKEN}"), ("Accept", "application/json")],
            response_headers=[JSON],
            response_body=json.dumps({"results": []}),
        ),
    ]


def garbage_run() -> list[Exchange]:
    """Records no recorder should make: broken URLs, statuses, bodies and headers."""
    return [
        exchange(
            1, "token_request", "rp", "token", "G E\nT", "http://[?code=\x00x", 0,
            headers=[("Authorization", "Basic ==="), ("Location", "http://[?code=x"), ("", "")], body="\x00{",
            response_headers=[JSON], response_body='{"error": 5, "access_token": 12}',
        ),
        exchange(
            2, "token_request", "rp", "token", "POST", f"{ISSUER}/token", 200, headers=[JSON],
            body='{"client_secret": {"nested": true}, "x": "\\u0000"}', response_headers=[JSON],
            response_body='{"access_token": "a.b.c", "id_token": "e30.e30.e30", "refresh_token": ""}',
        ),
        exchange(3, "jwks", "rp", "keys", "GET", "/", 200, response_body='{"keys": "nope"}'),
        exchange(4, "introspection", "rp", "token", "POST", "", 999, body="token=" + "x" * 100_000),
        exchange(5, "authorization_response", "browser", "rp", "GET", "/cb?error=%ZZ&error=", 200),
    ]  # fmt: skip

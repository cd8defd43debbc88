"""The relying party at the token endpoint and userinfo, and its checks of ID tokens."""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

import requests
from jwcrypto import jwk, jws
from jwcrypto.common import JWException

from .browser import Browser
from .context import Context
from .flows import AuthOutcome, AuthRequest, authorize, callback_params, expect_code, new_request
from .http import error_of, json_body
from .pkce import b64url, b64url_decode
from .registry import CLOCK_SKEW, CheckFailed, Client

# RFC 6749 §5.2: error and error_description use %x20-21 / %x23-5B / %x5D-7E.
_ERROR_CHARS = re.compile(r"^[\x20\x21\x23-\x5b\x5d-\x7e]+$")


def token_request(
    ctx: Context, data: dict[str, str], *, client: Client, auth: str = "basic"
) -> requests.Response:
    data = dict(data)
    kwargs: dict[str, Any] = {}
    if auth == "basic":
        # RFC 6749 §2.3.1: form-encode the client id and secret before HTTP Basic.
        kwargs["auth"] = (quote_plus(client.client_id), quote_plus(client.secret))
    else:
        data.update(client_id=client.client_id, client_secret=client.secret)
    return ctx.http(
        "POST", ctx.endpoint("token_endpoint"), data=data, headers={"Accept": "application/json"}, **kwargs
    )


def exchange_code(
    ctx: Context, req: AuthRequest, code: str, *, auth: str = "basic", client: Client | None = None
) -> requests.Response:
    return token_request(
        ctx,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": req.redirect_uri,
            "code_verifier": req.verifier,
        },
        client=client or req.client,
        auth=auth,
    )


def check_token_response(
    ctx: Context, response: requests.Response, *, what: str = "token endpoint", id_token: bool = True
) -> dict[str, Any]:
    if response.status_code != 200:
        raise CheckFailed(f"{what} answered HTTP {response.status_code} ({error_of(response)})")
    body = json_body(response, what)
    for name in ("access_token", "refresh_token", "id_token"):
        if isinstance(body.get(name), str):
            ctx.secret(body[name])
    if not isinstance(body.get("access_token"), str) or not body["access_token"]:
        raise CheckFailed(f"{what}: no access_token")
    if str(body.get("token_type", "")).lower() != "bearer":
        raise CheckFailed(f"{what}: token_type is {body.get('token_type')!r}, not Bearer")
    if id_token and (not isinstance(body.get("id_token"), str) or not body["id_token"]):
        raise CheckFailed(f"{what}: no id_token")
    if "expires_in" in body and (
        isinstance(body["expires_in"], bool) or not isinstance(body["expires_in"], int | float)
    ):
        raise CheckFailed(f"{what}: expires_in is not a number")
    if "no-store" not in response.headers.get("Cache-Control", "").lower():
        raise CheckFailed(f"{what}: no Cache-Control: no-store (OIDC Core 3.1.3.3)")
    return body


def check_error_body(response: requests.Response, what: str, expected: str) -> None:
    """A 400 JSON OAuth error with ``error == expected`` and syntactically valid members."""
    if response.status_code != 400:
        raise CheckFailed(
            f"{what}: HTTP {response.status_code} ({error_of(response)}), expected 400 {expected}"
        )
    body = json_body(response, what)
    error = body.get("error")
    if not isinstance(error, str) or not _ERROR_CHARS.match(error):
        raise CheckFailed(f"{what}: the error body has no valid error member")
    description = body.get("error_description")
    if description is not None and (not isinstance(description, str) or not _ERROR_CHARS.match(description)):
        raise CheckFailed(f"{what}: error_description has characters RFC 6749 §5.2 does not allow")
    if "error_uri" in body and not isinstance(body["error_uri"], str):
        raise CheckFailed(f"{what}: error_uri is not a string")
    if error != expected:
        raise CheckFailed(f"{what}: error={error}, expected {expected}")


UNSET: Any = object()


def jwt_parts(raw: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and claims of a compact JWS, unverified."""
    pieces = raw.split(".")
    if len(pieces) != 3:
        raise CheckFailed("the ID token is not a compact JWS (three dot-separated parts)")
    try:
        header = json.loads(b64url_decode(pieces[0]))
        claims = json.loads(b64url_decode(pieces[1]))
    except (ValueError, UnicodeDecodeError):
        raise CheckFailed("the ID token header or payload is not base64url JSON") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise CheckFailed("the ID token header or payload is not a JSON object")
    return header, claims


def _verification_keys(ctx: Context, kid: str | None) -> list[jwk.JWK]:
    for refresh in (False, True):
        keys = ctx.key_set(refresh=refresh)
        if kid is not None:
            found = keys.get_key(kid)
            if found is not None:
                return [found]
        else:
            candidates = [key for key in keys["keys"] if key.get("kty") == "RSA"]
            if candidates:
                return candidates
    raise CheckFailed(f"no key with kid {kid!r} in jwks_uri" if kid else "no RSA key in jwks_uri")


def verify_id_token(
    ctx: Context,
    raw: str,
    *,
    client: Client,
    nonce: str | None = UNSET,
    access_token: str | None = None,
    max_age: int | None = None,
    what: str = "ID token",
) -> dict[str, Any]:
    """Verify an RS256 ID token against jwks_uri and check its claims; ``nonce=None``: none was sent."""
    header, claims = jwt_parts(raw)
    alg = header.get("alg")
    if alg != "RS256":
        raise CheckFailed(f"{what} is signed with alg={alg!r}, not RS256")
    kid = header.get("kid")
    verified = False
    for key in _verification_keys(ctx, kid if isinstance(kid, str) else None):
        token = jws.JWS()
        try:
            token.deserialize(raw)
            token.verify(key, alg="RS256")
            verified = True
            break
        except (JWException, ValueError):
            continue
    if not verified:
        raise CheckFailed(f"{what}: the RS256 signature does not verify with the key from jwks_uri")

    now = time.time()
    if claims.get("iss") != ctx.issuer:
        raise CheckFailed(f"{what}: iss is {claims.get('iss')!r}, not the issuer {ctx.issuer!r}")
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else None
    if not audiences or client.client_id not in audiences:
        raise CheckFailed(f"{what}: aud {aud!r} does not contain the client_id {client.client_id!r}")
    if len(audiences) > 1 and claims.get("azp") != client.client_id:
        raise CheckFailed(f"{what}: several audiences and azp is not the client_id")
    if "azp" in claims and claims["azp"] != client.client_id:
        raise CheckFailed(f"{what}: azp is {claims['azp']!r}, not the client_id")
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub or len(sub) > 255:
        raise CheckFailed(f"{what}: sub is missing or not a string of 1-255 characters")
    for name in ("exp", "iat"):
        if isinstance(claims.get(name), bool) or not isinstance(claims.get(name), int | float):
            raise CheckFailed(f"{what}: {name} is missing or not a number")
    if claims["exp"] <= now - CLOCK_SKEW:
        raise CheckFailed(f"{what} has expired (exp is {now - claims['exp']:.0f} s in the past)")
    if claims["exp"] < claims["iat"]:
        raise CheckFailed(f"{what}: exp is before iat")
    if abs(claims["iat"] - now) > CLOCK_SKEW:
        raise CheckFailed(f"{what}: iat is {claims['iat'] - now:+.0f} s away from now")
    if "nbf" in claims and (not isinstance(claims["nbf"], int | float) or claims["nbf"] > now + CLOCK_SKEW):
        raise CheckFailed(f"{what}: nbf is not a number or is in the future")
    if nonce is not UNSET:
        if nonce is not None and claims.get("nonce") != nonce:
            raise CheckFailed(
                f"{what}: " + ("no nonce" if "nonce" not in claims else "nonce differs from the one sent")
            )
        if nonce is None and "nonce" in claims:
            ctx.warn(f"{what} has a nonce although none was sent")
    if "auth_time" in claims:
        auth_time = claims["auth_time"]
        if isinstance(auth_time, bool) or not isinstance(auth_time, int | float):
            raise CheckFailed(f"{what}: auth_time is not a number")
        if auth_time > now + CLOCK_SKEW:
            raise CheckFailed(f"{what}: auth_time is in the future")
    elif max_age is not None:
        raise CheckFailed(f"{what}: no auth_time although max_age was requested (OIDC Core 3.1.2.1)")
    if "acr" in claims and not isinstance(claims["acr"], str):
        raise CheckFailed(f"{what}: acr is not a string")
    if "amr" in claims and (
        not isinstance(claims["amr"], list) or not all(isinstance(v, str) for v in claims["amr"])
    ):
        raise CheckFailed(f"{what}: amr is not an array of strings")
    if "updated_at" in claims and (
        isinstance(claims["updated_at"], bool) or not isinstance(claims["updated_at"], int | float)
    ):
        raise CheckFailed(f"{what}: updated_at is not a number")
    if "at_hash" in claims and access_token is not None:
        digest = hashlib.sha256(access_token.encode("ascii")).digest()
        if claims["at_hash"] != b64url(digest[: len(digest) // 2]):
            raise CheckFailed(f"{what}: at_hash does not match the access token")
    return claims


@dataclass
class Flow:
    """A completed authorization code flow: the request, the browser's outcome and the tokens."""

    req: AuthRequest
    outcome: AuthOutcome
    params: dict[str, str]
    token: dict[str, Any]
    claims: dict[str, Any]

    @property
    def id_token(self) -> str:
        return self.token["id_token"]

    @property
    def access_token(self) -> str:
        return self.token["access_token"]

    @property
    def refresh_token(self) -> str | None:
        value = self.token.get("refresh_token")
        return value if isinstance(value, str) and value else None


def code_flow(
    ctx: Context,
    browser: Browser,
    req: AuthRequest,
    *,
    method: str = "GET",
    auth: str = "basic",
    forbid_login: str | None = None,
    forbid_consent: str | None = None,
    what: str = "the authorization request",
) -> Flow:
    """Authorize in ``browser``, exchange the code, verify the ID token."""
    outcome = authorize(
        ctx, browser, req, method=method, forbid_login=forbid_login, forbid_consent=forbid_consent
    )
    return finish_flow(ctx, req, outcome, auth=auth, what=what)


def finish_flow(
    ctx: Context, req: AuthRequest, outcome: AuthOutcome, *, auth: str = "basic", what: str
) -> Flow:
    """The rest of a code flow once the browser is back: the code, its exchange, the ID token."""
    code = expect_code(ctx, req, outcome, what)
    params = callback_params(ctx, req, outcome.location or "")
    token = check_token_response(ctx, exchange_code(ctx, req, code, auth=auth))
    claims = verify_id_token(
        ctx,
        token["id_token"],
        client=req.client,
        nonce=req.nonce,
        access_token=token["access_token"],
        max_age=req.max_age,
    )
    return Flow(req=req, outcome=outcome, params=params, token=token, claims=claims)


def signed_in(ctx: Context, scope: str = "openid", **extra: str | None) -> tuple[Browser, Flow]:
    """A fresh browser in which the user signed in and approved the client (a first complete flow)."""
    browser = ctx.new_browser()
    flow = code_flow(ctx, browser, new_request(ctx, scope=scope, **extra), what="the first authorization")
    return browser, flow


def userinfo(ctx: Context, access_token: str, *, how: str = "get") -> requests.Response:
    endpoint = ctx.endpoint("userinfo_endpoint")
    if how == "get":
        return ctx.http("GET", endpoint, headers={"Authorization": f"Bearer {access_token}"})
    if how == "post-header":
        return ctx.http("POST", endpoint, headers={"Authorization": f"Bearer {access_token}"})
    return ctx.http("POST", endpoint, data={"access_token": access_token})


def userinfo_claims(
    ctx: Context, response: requests.Response, sub: str, what: str = "userinfo"
) -> dict[str, Any]:
    if response.status_code != 200:
        raise CheckFailed(f"{what} answered HTTP {response.status_code} ({error_of(response)})")
    body = json_body(response, what)
    if body.get("sub") != sub:
        raise CheckFailed(f"{what}: sub differs from the ID token's sub")
    return body


def check_auth_time_moved(first: dict[str, Any], second: dict[str, Any], why: str) -> None:
    """After a new sign-in, a later auth_time, compared only when both ID tokens carry one.

    OIDC Core §2 makes auth_time optional unless max_age was requested (or it was asked for as an
    essential claim): a first request without max_age may well get an ID token without it.
    """
    if "auth_time" not in first or "auth_time" not in second:
        return
    if not second["auth_time"] > first["auth_time"]:
        raise CheckFailed(
            f"auth_time did not move forward after {why} ({first['auth_time']} then {second['auth_time']})"
        )


def remembered(ctx: Context, what: str) -> dict[str, str]:
    """The FAIL details for a login or consent page in a browser that already signed in and consented."""
    return {
        "forbid_login": f"{what}: the login page was shown although {ctx.config.username} "
        "is signed in in this browser",
        "forbid_consent": f"{what}: the consent page was shown again although {ctx.config.username} "
        f"already approved {ctx.config.client_id} for the same scopes in this browser "
        "(remembered consent expected)",
    }

"""What an authorization request may say beyond oauthlib's checks, and the iss its answers carry."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from oauth2_provider.oauth2_validators import is_valid_resource_uri
from oauthlib.oauth2.rfc6749 import errors

from .pkce import pkce_problem

# OIDC Core 3.1.2.1 values this provider acts on (and advertises). ``create`` (Prompt Create 1.0) is
# not among them: there is no self-registration here.
PROMPT_VALUES = ("none", "login", "consent", "select_account")
# Answers go in the query only: the one mode discovery advertises and the code flow's default.
RESPONSE_MODES = ("query",)
# OIDC Core 5.5: the members of the claims request naming claims, each a JSON object.
CLAIMS_TARGETS = ("userinfo", "id_token")


def check_authorization_request(request) -> dict:
    """oauthlib ``pre_auth`` validator: a parameter this provider cannot honour is an error for the client.

    It runs once the client and its redirect URI are known to match, so every error raised here
    goes back to that redirect URI with ``state`` (and ``iss``, added by the view).
    """
    if request.response_mode and request.response_mode not in RESPONSE_MODES:
        # oauthlib would answer in the fragment (or, for unknown modes, silently in the query).
        raise errors.InvalidRequestError(
            description="Unsupported response_mode: the only response_mode is query.", request=request
        )
    prompt = set((request.prompt or "").split())
    if unsupported := prompt - set(PROMPT_VALUES):
        # Prompt Create 1.0 §4.1: a prompt value the OP does not support is invalid_request.
        raise errors.InvalidRequestError(
            description=f"Unsupported prompt value: {_ascii(sorted(unsupported)[0])}.", request=request
        )
    if "none" in prompt and "select_account" in prompt:
        # OIDC Core 3.1.2.1: no account can be chosen without showing a page.
        raise errors.CustomOAuth2Error(
            error="account_selection_required",
            description="An account cannot be chosen with prompt=none.",
            request=request,
        )
    if "none" in prompt and len(prompt) > 1:
        raise errors.InvalidRequestError(
            description="Prompt none is mutually exclusive with other values.", request=request
        )
    return {}


def check_claims_parameter(request) -> dict:
    """oauthlib ``pre_auth`` validator for OpenID requests: the ``claims`` parameter, parsed and well-formed.

    oauthlib parses it later, and a parse error then carries no redirect URI (DOT shows a bare 400
    page); any JSON at all passes its parse. Parsed here, oauthlib leaves the object as it is.
    """
    if request.claims and not isinstance(request.claims, dict):
        try:
            parsed = json.loads(request.claims)
        except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
            raise errors.InvalidRequestError(
                description="The claims parameter is not JSON.", request=request
            ) from None
        if problem := claims_request_problem(parsed):
            raise errors.InvalidRequestError(description=problem, request=request)
        request.claims = parsed
    return {}


def claims_request_problem(claims_request: Any) -> str | None:
    """What is wrong with a parsed ``claims`` request (OIDC Core 5.5), or None when it is well-formed."""
    if not isinstance(claims_request, dict):
        return "The claims parameter must be a JSON object."
    if _holds_nul(claims_request):
        # Kept with the code and the tokens; PostgreSQL's jsonb refuses NUL ("\u0000") anywhere.
        return "The claims parameter must not contain NUL characters."
    for target in CLAIMS_TARGETS:
        if target not in claims_request:
            continue
        member = claims_request[target]
        if not isinstance(member, dict):
            return f"claims.{target} must be a JSON object."
        for query in member.values():
            if query is None:
                continue
            if not isinstance(query, dict):
                return f"Each claim in claims.{target} must be null or a JSON object."
            if not isinstance(query.get("essential", False), bool):
                return f"essential in claims.{target} must be true or false."
            if not isinstance(query.get("values", []), list):
                return f"values in claims.{target} must be a JSON array."
    return None


def _holds_nul(value: Any) -> bool:
    """Whether a NUL is in any string (keys too) of parsed JSON; iterative, as it may nest deep."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str) and "\x00" in item:
            return True
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def request_problem(query, credentials: dict, scopes) -> errors.OAuth2Error | None:
    """What this provider refuses in a request oauthlib accepted, as the error for the client.

    Request objects (not supported), a request short of the PKCE policy (``idp.pkce``), and a
    ``resource`` that is not an absolute URI without a fragment (RFC 8707 §2).
    """
    for parameter in ("request", "request_uri"):
        if parameter in query:
            description = f"The {parameter} parameter is not supported."
            return errors.CustomOAuth2Error(f"{parameter}_not_supported", description=description)
    if problem := pkce_problem(
        credentials["request"].client,
        code_challenge=credentials.get("code_challenge"),
        code_challenge_method=credentials.get("code_challenge_method"),
        nonce=credentials.get("nonce"),
        scopes=scopes,
    ):
        return errors.InvalidRequestError(description=problem)
    for resource in query.getlist("resource"):
        if not is_resource_indicator(resource):
            return invalid_target()
    return None


def _ascii(value: str) -> str:
    """A request value safe to quote in ``error_description`` (RFC 6749 §4.1.2.1's character set)."""
    return "".join(c for c in value if " " <= c <= "~" and c not in '"\\')[:40]


def is_resource_indicator(value: str) -> bool:
    """RFC 8707 §2: an absolute URI without a fragment. DOT's check raises on some, e.g. ``http://[``."""
    try:
        return is_valid_resource_uri(value)
    except ValueError:
        return False


def invalid_target(*, request=None) -> errors.CustomOAuth2Error:
    """RFC 8707 §2's error for a malformed ``resource``, at the authorization and the token endpoint."""
    return errors.CustomOAuth2Error(
        error="invalid_target",
        description="A resource is not an absolute URI without a fragment (RFC 8707).",
        request=request,
    )


def parsed_json(value: Any) -> Any:
    """A JSON text parsed (a ``claims`` request the consent form carries back), else None."""
    if isinstance(value, str) and value:
        try:
            return json.loads(value)
        except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
            return None
    return value or None


def with_iss(uri: str, issuer: str) -> str:
    """``uri`` with exactly one RFC 9207 ``iss`` query parameter, equal to ``issuer``: every answer has it."""
    parts = urlsplit(uri)
    query = [(key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True) if key != "iss"]
    query.append(("iss", issuer))
    return urlunsplit(parts._replace(query=urlencode(query)))

"""Config OP plan: the discovery document and the JWK set."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import requests
from jwcrypto import jwk
from jwcrypto.common import JWException

from ..context import Context
from ..http import is_http_url, is_loopback_url, json_body
from ..pkce import b64url_decode
from ..registry import CheckFailed, Status, module

# RFC 6749 §3.3 scope-token.
_SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")
_LOCALE = re.compile(r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")

_URL_FIELDS = {
    "issuer",
    "authorization_endpoint",
    "token_endpoint",
    "userinfo_endpoint",
    "jwks_uri",
    "registration_endpoint",
    "end_session_endpoint",
    "revocation_endpoint",
    "introspection_endpoint",
    "check_session_iframe",
    "service_documentation",
    "op_policy_uri",
    "op_tos_uri",
    "pushed_authorization_request_endpoint",
    "device_authorization_endpoint",
    "backchannel_authentication_endpoint",
}
_ARRAY_FIELDS = {
    "scopes_supported",
    "response_types_supported",
    "response_modes_supported",
    "grant_types_supported",
    "acr_values_supported",
    "subject_types_supported",
    "id_token_signing_alg_values_supported",
    "id_token_encryption_alg_values_supported",
    "id_token_encryption_enc_values_supported",
    "userinfo_signing_alg_values_supported",
    "userinfo_encryption_alg_values_supported",
    "userinfo_encryption_enc_values_supported",
    "request_object_signing_alg_values_supported",
    "request_object_encryption_alg_values_supported",
    "request_object_encryption_enc_values_supported",
    "token_endpoint_auth_methods_supported",
    "token_endpoint_auth_signing_alg_values_supported",
    "display_values_supported",
    "claim_types_supported",
    "claims_supported",
    "claims_locales_supported",
    "ui_locales_supported",
    "code_challenge_methods_supported",
    "revocation_endpoint_auth_methods_supported",
    "revocation_endpoint_auth_signing_alg_values_supported",
    "introspection_endpoint_auth_methods_supported",
    "introspection_endpoint_auth_signing_alg_values_supported",
    "prompt_values_supported",
    "dpop_signing_alg_values_supported",
    "authorization_signing_alg_values_supported",
    "authorization_encryption_alg_values_supported",
    "authorization_encryption_enc_values_supported",
    "backchannel_token_delivery_modes_supported",
    "backchannel_authentication_request_signing_alg_values_supported",
    "introspection_signing_alg_values_supported",
    "introspection_encryption_alg_values_supported",
    "introspection_encryption_enc_values_supported",
    "authorization_details_types_supported",
    "client_registration_types_supported",
}
_BOOLEAN_FIELDS = {
    "claims_parameter_supported",
    "request_parameter_supported",
    "request_uri_parameter_supported",
    "require_request_uri_registration",
    "frontchannel_logout_supported",
    "frontchannel_logout_session_supported",
    "backchannel_logout_supported",
    "backchannel_logout_session_supported",
    "authorization_response_iss_parameter_supported",
    "tls_client_certificate_bound_access_tokens",
    "require_pushed_authorization_requests",
    "backchannel_user_code_parameter_supported",
    "require_signed_request_object",
}
# The rest of the IANA OAuth Authorization Server Metadata registry (RFC 8414 §7.1), types unchecked.
_OTHER_FIELDS = {
    "mtls_endpoint_aliases",
    "signed_metadata",
    "jwks",
    "signed_jwks_uri",
    "organization_name",
    "protected_resources",
    "federation_registration_endpoint",
    "request_authentication_methods_supported",
    "request_authentication_signing_alg_values_supported",
    "nfv_token_signing_alg_values_supported",
    "nfv_token_encryption_alg_values_supported",
    "nfv_token_encryption_enc_values_supported",
    "verified_claims_supported",
    "trust_frameworks_supported",
    "evidence_supported",
    "documents_supported",
    "documents_methods_supported",
    "documents_validation_methods_supported",
    "documents_verification_methods_supported",
    "id_documents_supported",
    "id_documents_verification_methods_supported",
    "electronic_records_supported",
    "claims_in_verified_claims_supported",
    "attachments_supported",
    "digest_algorithms_supported",
}
_PRIVATE_JWK_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


def _check_discovery_document(ctx: Context, response: requests.Response) -> dict[str, Any]:
    if response.status_code != 200:
        raise CheckFailed(f"discovery answered HTTP {response.status_code}")
    doc = json_body(response, "discovery")

    issuer = doc.get("issuer")
    if issuer != ctx.issuer:
        raise CheckFailed(f"issuer is {issuer!r}, not {ctx.issuer!r} (the URL the document was fetched from)")
    issuer_parts = urlsplit(issuer)
    if not is_http_url(issuer) or issuer_parts.query:
        raise CheckFailed("issuer is not a URL without query and fragment")

    # Schema: types of the known members. Discovery allows extensions (OIDC Discovery §3), so a member
    # outside the registry is no failure; the suite warns about it (CheckForUnexpectedParametersIn-
    # ServerMetadata) unless its configuration lists it (server.allow_unexpected_metadata_fields), and
    # so does this check, unless --allow-metadata names it.
    for name, value in doc.items():
        if name in _URL_FIELDS and not is_http_url(value):
            raise CheckFailed(f"{name} is not an absolute http(s) URL")
        if name in _ARRAY_FIELDS and (
            not isinstance(value, list) or not all(isinstance(item, str) for item in value)
        ):
            raise CheckFailed(f"{name} is not an array of strings")
        if name in _BOOLEAN_FIELDS and not isinstance(value, bool):
            raise CheckFailed(f"{name} is not a boolean")
    if "mtls_endpoint_aliases" in doc and not isinstance(doc["mtls_endpoint_aliases"], dict):
        raise CheckFailed("mtls_endpoint_aliases is not an object")
    known = _URL_FIELDS | _ARRAY_FIELDS | _BOOLEAN_FIELDS | _OTHER_FIELDS | set(ctx.config.allowed_metadata)
    unexpected = sorted(set(doc) - known)
    if unexpected:
        ctx.warn(
            f"discovery members outside the metadata registry: {', '.join(unexpected)} "
            "(extensions are allowed; --allow-metadata accepts the ones published on purpose)"
        )

    for name in (
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "response_types_supported",
        "subject_types_supported",
        "id_token_signing_alg_values_supported",
    ):
        if name not in doc:
            raise CheckFailed(f"{name} is missing")
    if "code" not in doc["response_types_supported"]:
        raise CheckFailed("response_types_supported does not contain code")
    subject_types = doc["subject_types_supported"]
    if not subject_types or not set(subject_types) <= {"public", "pairwise"}:
        raise CheckFailed(
            f"subject_types_supported {subject_types!r} is not a non-empty subset of public, pairwise"
        )
    if "RS256" not in doc["id_token_signing_alg_values_supported"]:
        raise CheckFailed("id_token_signing_alg_values_supported does not contain RS256")
    if "claims_supported" not in doc:
        ctx.warn("claims_supported is missing")
    if "grant_types_supported" in doc and not doc["grant_types_supported"]:
        raise CheckFailed("grant_types_supported is an empty array")
    scopes = doc.get("scopes_supported")
    if scopes is None:
        ctx.warn("scopes_supported is missing")
    else:
        if "openid" not in scopes:
            raise CheckFailed("scopes_supported does not contain openid")
        bad = [scope for scope in scopes if not _SCOPE_TOKEN.match(scope)]
        if bad:
            raise CheckFailed(f"scopes_supported has invalid scope tokens: {bad!r}")
    for name in ("claims_locales_supported", "ui_locales_supported"):
        bad = [loc for loc in doc.get(name, []) if not _LOCALE.match(loc)]
        if bad:
            raise CheckFailed(f"{name} has invalid language tags: {bad!r}")
    if "code_challenge_methods_supported" not in doc:
        ctx.warn("code_challenge_methods_supported is missing")
    elif "S256" not in doc["code_challenge_methods_supported"]:
        ctx.warn("code_challenge_methods_supported does not contain S256")

    # All endpoints https (a loopback development issuer cannot be: a warning there).
    endpoint_values: list[tuple[str, str]] = [
        (name, value)
        for name, value in doc.items()
        if isinstance(value, str)
        and (name.endswith("_endpoint") or name in {"issuer", "jwks_uri", "check_session_iframe"})
    ]
    for name, value in (doc.get("mtls_endpoint_aliases") or {}).items():
        if isinstance(value, str):
            endpoint_values.append((f"mtls_endpoint_aliases.{name}", value))
    plain = [name for name, value in endpoint_values if urlsplit(value).scheme != "https"]
    if plain:
        message = f"not https: {', '.join(plain)}"
        if issuer_parts.scheme == "http" and is_loopback_url(ctx.issuer):
            ctx.warn(message + " (accepted for a loopback development issuer only)")
        else:
            raise CheckFailed(message)
    return doc


def _check_jwks_document(ctx: Context, response: requests.Response, document: Any) -> None:
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if content_type not in {"application/json", "application/jwk-set+json"}:
        raise CheckFailed(f"jwks_uri: Content-Type is {content_type or 'missing'}")
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list) or not keys:
        raise CheckFailed("jwks_uri: not a JWK set with a non-empty keys array")
    usable = False
    for index, key in enumerate(keys):
        if not isinstance(key, dict):
            raise CheckFailed(f"jwks_uri: key #{index} is not an object")
        private = sorted(_PRIVATE_JWK_MEMBERS & set(key))
        if private:
            raise CheckFailed(f"jwks_uri: key #{index} publishes private key material ({', '.join(private)})")
        try:
            imported = jwk.JWK(**key)
        except (JWException, ValueError, TypeError):
            raise CheckFailed(f"jwks_uri: key #{index} is not a valid JWK") from None
        if key.get("kty") == "RSA":
            size = len(b64url_decode(key.get("n", ""))) * 8
            if size < 2048:
                ctx.warn(f"jwks_uri: RSA key {key.get('kid')!r} has only {size} bits")
            if key.get("use", "sig") == "sig" and key.get("alg", "RS256") == "RS256":
                usable = True
        del imported
    if not usable:
        raise CheckFailed("jwks_uri: no RSA signing key usable for RS256")
    ctx.check_jwks_kids()


@module(
    "oidcc-discovery-endpoint-verification",
    "config",
    "The discovery document, its issuer, its members and the JWKS are valid",
)
def discovery_endpoint_verification(ctx: Context) -> tuple[Status, str]:
    response = ctx.http("GET", ctx.discovery_url)
    doc = _check_discovery_document(ctx, response)
    ctx.shared.discovery = ctx.shared.discovery or doc
    jwks_response, jwks_document = ctx.fetch_jwks()
    _check_jwks_document(ctx, jwks_response, jwks_document)
    return ctx.verdict()

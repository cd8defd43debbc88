"""The OAuth2Validator subclass: the single place where DOT/oauthlib protocol behaviour is extended."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote_plus

from django.db import router, transaction
from django.utils import timezone
from jwcrypto import jws
from oauth2_provider.models import (
    get_access_token_model,
    get_grant_model,
    get_id_token_model,
    get_refresh_token_model,
)
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.settings import oauth2_settings
from oauthlib.oauth2.rfc6749 import errors

from . import hot_path, pkce
from .audit import Event, record
from .claims import claim_values, claims_for, requested_claims, supported_claims
from .clients import previous_secret_matches
from .conf import idp_settings
from .keys import sign_jwt, verification_key
from .token_checks import person_may_use_tokens, refresh_token_is_live

AccessToken = get_access_token_model()
Grant = get_grant_model()
RefreshToken = get_refresh_token_model()
IDToken = get_id_token_model()


class _Replayed(Exception):
    """The code or refresh token being exchanged was used by a concurrent request first."""


def _epoch_to_datetime(value: int | float | None) -> datetime | None:
    return datetime.fromtimestamp(value, tz=UTC) if value is not None else None


class IdpOAuth2Validator(OAuth2Validator):
    """Claims from the catalogue, real ``auth_time``, S256-only PKCE, codes that betray their reuse."""

    # Claims are released by idp.claims, not by DOT's scope filter.
    oidc_claim_scope = None

    # --- issuer and keys -------------------------------------------------------------------------

    def get_oidc_issuer_endpoint(self, request) -> str:
        return idp_settings.ISSUER

    def _get_key_for_token(self, token):
        """Any published key (active or retired), chosen by the token's ``kid``."""
        unverified = jws.JWS()
        unverified.deserialize(token)
        return verification_key(unverified.jose_header.get("kid"))

    def _load_access_token(self, token):
        """The access token with its client and user, by checksum (unique: no ORDER BY needed).

        A token of a deactivated person is treated as unknown, for every bearer check (userinfo, the API).
        """
        found = hot_path.ACCESS_TOKEN.first(hashlib.sha256(token.encode("utf-8")).hexdigest())
        return found if found is not None and person_may_use_tokens(found.user) else None

    def validate_jwt_bearer_token(self, token, scopes, request) -> bool:
        """An ID token is never an access token: refuse JWT-shaped bearer tokens outright."""
        return False

    # --- clients ---------------------------------------------------------------------------------

    def _load_application(self, client_id, request):
        """DOT's client lookup, read once per request through a compiled query."""
        if oauth2_settings.CIMD_ENABLED:
            return super()._load_application(client_id, request)
        client = request.client
        if isinstance(client, hot_path.Application) and client.client_id == client_id:
            return client if client.is_usable(request) else None
        request.client = None
        client = hot_path.application(client_id)
        if client is None or not client.is_usable(request):
            return None
        request.client = client
        return client

    def _extract_basic_auth(self, request):
        """DOT's, but a Basic credential that is not ASCII is none: DOT's base64 decoding would raise."""
        credential = super()._extract_basic_auth(request)
        return credential if credential is None or credential.isascii() else None

    def _check_and_set_request_resource(self, request):
        """DOT's RFC 8707 handling, taking a code's resources from the already loaded Grant.

        DOT would read the Grant once more; it only needs its ``resource``. The narrowing rules are
        DOT's own: requested resources must be a subset of the code's, else the code's are inherited.
        """
        if request.grant_type != "authorization_code":
            return super()._check_and_set_request_resource(request)
        request.grant_type = None  # DOT then only normalises and validates the requested resources
        try:
            super()._check_and_set_request_resource(request)
        finally:
            request.grant_type = "authorization_code"
        grant = self._grant(request.code, request)
        granted = (
            (grant.resource or []) if grant is not None and grant.application_id == request.client.pk else []
        )
        if request.resource and granted:
            for resource in request.resource:
                if resource not in granted:
                    raise errors.CustomOAuth2Error(
                        error="invalid_target",
                        description=f"The requested resource '{resource}' is not allowed. Token request "
                        "cannot escalate resource permissions beyond the original authorization grant",
                        request=request,
                    )
        elif granted:
            self._validate_resource_uris(request, granted)
            request.resource = granted

    def _validate_resource_uris(self, request, resources):
        """DOT's RFC 8707 check, which raises ValueError (a 500) on a URI urllib cannot split (``http://[``)."""
        try:
            super()._validate_resource_uris(request, resources)
        except ValueError:
            raise errors.CustomOAuth2Error(
                error="invalid_target",
                description="A resource is not a valid absolute URI.",
                request=request,
            ) from None

    # --- client authentication ---------------------------------------------------------------------

    def authenticate_client(self, request, *args, **kwargs) -> bool:
        """DOT's, with one client identity per request, which then names the client everywhere.

        RFC 6749 §2.3 allows one authentication method per request, and a ``client_id`` in the body
        of a request authenticated with HTTP Basic must name that same client (§3.2.1). DOT's own
        ``_authenticate_basic_auth`` compared the two; this class's previous-secret path did not, and
        oauthlib takes the ID token's ``aud`` from ``request.client_id``: it is set here to the
        client that authenticated, whatever the body said.
        """
        basic = self._extract_basic_auth(request)
        if basic is not None:
            if getattr(request, "client_secret", None) is not None:
                raise errors.InvalidRequestError(
                    description="Use one client authentication method: HTTP Basic or client_secret in "
                    "the body, not both.",
                    request=request,
                )
            basic_client_id, _secret = _basic_credentials(basic, request)
            if request.client_id is not None and request.client_id != basic_client_id:
                raise errors.InvalidRequestError(
                    description="client_id in the body differs from the client authenticated with "
                    "HTTP Basic.",
                    request=request,
                )
        if not super().authenticate_client(request, *args, **kwargs):
            return False
        if request.client_id is not None and request.client_id != request.client.client_id:
            raise errors.InvalidRequestError(
                description="client_id differs from the authenticated client.", request=request
            )
        request.client_id = request.client.client_id
        return True

    # --- client authentication: the previous secret during its grace period -----------------------

    def _authenticate_basic_auth(self, request) -> bool:
        if super()._authenticate_basic_auth(request):
            return True
        client_id, secret = _basic_credentials(self._extract_basic_auth(request), request)
        return self._previous_secret_authenticates(request, client_id, secret)

    def _authenticate_request_body(self, request) -> bool:
        if super()._authenticate_request_body(request):
            return True
        client_id = getattr(request, "client_id", None)
        return self._previous_secret_authenticates(
            request, client_id, getattr(request, "client_secret", None)
        )

    def _previous_secret_authenticates(self, request, client_id, secret) -> bool:
        """A rotated-away secret still authenticates its client until the operator's grace period ends."""
        client = request.client
        return bool(
            client is not None
            and client_id
            and secret
            and client.client_id == client_id
            and client.client_type == client.CLIENT_CONFIDENTIAL
            and previous_secret_matches(client, secret)
        )

    # --- authorization codes ---------------------------------------------------------------------

    def is_pkce_required(self, client_id, request) -> bool:
        """``idp.pkce``: always, except for confidential clients the operator allowed a nonce instead."""
        client = request.client if request.client is not None else self._load_application(client_id, request)
        return pkce.pkce_required(client)

    def _create_authorization_code(self, request, code, expires=None):
        """Store the code with its S256 challenge and how and when the approving session signed in."""
        if problem := pkce.pkce_problem(
            request.client,
            code_challenge=request.code_challenge,
            code_challenge_method=request.code_challenge_method,
            nonce=request.nonce,
            scopes=request.scopes,
        ):
            raise errors.InvalidRequestError(description=problem, request=request)
        if expires is None:
            expires = timezone.now() + timedelta(seconds=oauth2_settings.AUTHORIZATION_CODE_EXPIRE_SECONDS)
        return hot_path.INSERT_GRANT.save(
            Grant(
                application=request.client,
                user=request.user,
                code=code["code"],
                expires=expires,
                redirect_uri=request.redirect_uri,
                scope=" ".join(request.scopes),
                code_challenge=request.code_challenge or "",
                code_challenge_method="S256" if request.code_challenge else "",
                nonce=request.nonce or "",
                claims=json.dumps(request.claims or {}),
                resource=getattr(request, "resource", None) or [],
                auth_time=_epoch_to_datetime(getattr(request, "auth_time", None)),
                amr=" ".join(getattr(request, "amr", None) or []),
            )
        )

    def _grant(self, code: str, request):
        """The Grant for ``code``, loaded once per token request and kept on the oauthlib request."""
        cached = request.__dict__.get("_idp_grant")
        if cached is None or cached.code != code:
            cached = hot_path.GRANT.first(code) if isinstance(code, str) else None
            request._idp_grant = cached
        return cached

    def validate_code(self, client_id, code, client, request, *args, **kwargs) -> bool:
        """Accept a live, unused code of this client (``save_bearer_token`` claims it atomically).

        A second use of a code is an attack or a bug: it fails, and every token issued from the code
        is revoked (RFC 6749 §4.1.2). A code of a person deactivated since is refused, and so is a
        ``code_verifier`` that is malformed or that comes for a code issued without a challenge.
        """
        if problem := pkce.code_verifier_problem(request.code_verifier):
            raise errors.InvalidRequestError(description=problem, request=request)
        grant = self._grant(code, request)
        if grant is None or grant.application_id != client.pk:
            return False
        if grant.used_at is not None:
            revoke_tokens_issued_from(grant)
            record(Event.CODE_REUSE, actor=grant.user, client=client, request=request)
            return False
        if grant.is_expired() or not person_may_use_tokens(grant.user):
            return False
        if problem := pkce.downgrade_problem(grant.code_challenge, code_verifier=request.code_verifier):
            raise errors.InvalidGrantError(description=problem, request=request)
        request.scopes = grant.scope.split()
        request.user = grant.user
        request.auth_time = grant.auth_time
        request.amr = grant.amr.split()
        if grant.nonce:
            request.nonce = grant.nonce
        if grant.claims:
            request.claims = json.loads(grant.claims)
        return True

    def invalidate_authorization_code(self, client_id, code, request, *args, **kwargs) -> None:
        """Nothing left to do: ``save_bearer_token`` claimed the code with the tokens it became."""

    def confirm_redirect_uri(self, client_id, code, redirect_uri, client, request, *args, **kwargs) -> bool:
        grant = self._grant(code, request)
        if grant is None or not grant.redirect_uri_allowed(redirect_uri):
            # RFC 6749 §5.2 names this invalid_grant (oauthlib would answer invalid_request).
            raise errors.InvalidGrantError(
                description="redirect_uri does not match the one in the authorization request.",
                request=request,
            )
        return True

    def get_code_challenge(self, code, request):
        grant = self._grant(code, request)
        return (grant.code_challenge or None) if grant else None

    def get_code_challenge_method(self, code, request):
        grant = self._grant(code, request)
        return (grant.code_challenge_method or None) if grant else None

    def get_authorization_code_scopes(self, client_id, code, redirect_uri, request):
        grant = self._grant(code, request)
        return grant.scope.split() if grant else []

    def get_authorization_code_nonce(self, client_id, code, redirect_uri, request):
        grant = self._grant(code, request)
        return (grant.nonce or None) if grant else None

    # --- saving tokens ---------------------------------------------------------------------------

    def save_bearer_token(self, token, request, *args, **kwargs):
        """Save the tokens in one transaction that also claims the code or the rotated refresh token.

        A code is marked used by the statement that links it to its tokens; a presented refresh
        token is re-read under a row lock (SQLite's immediate transactions serialise the same way).
        A request that finds either already used lost a race with another use of the same
        credential: that is a replay, so its tokens are rolled back and the earlier ones revoked.
        """
        previous = getattr(request, "refresh_token_instance", None)
        grant = request.__dict__.get("_idp_grant") if request.grant_type == "authorization_code" else None
        try:
            with transaction.atomic(using=router.db_for_write(AccessToken)):
                if previous is not None and not (
                    RefreshToken.objects.select_for_update()
                    .filter(pk=previous.pk, revoked__isnull=True)
                    .values_list("pk", flat=True)
                    .first()
                ):
                    raise _Replayed
                id_token = request.__dict__.pop("_idp_unsaved_id_token", None)
                if id_token is not None:
                    hot_path.INSERT_ID_TOKEN.save(id_token)
                saved = self._save_bearer_token(token, request, *args, **kwargs)
                if previous is not None and "refresh_token" not in token:
                    # The refresh narrowed the scope away from offline_access (idp.server): DOT leaves
                    # the presented refresh token alive when none replaces it; it is used up as usual.
                    previous.revoke()
                if grant is not None:
                    access_token = request.__dict__.get("_idp_access_token")
                    refresh_token = request.__dict__.get("_idp_refresh_token")
                    if not hot_path.claim_code(
                        grant,
                        access_token_id=access_token.pk if access_token else None,
                        token_family=refresh_token.token_family if refresh_token else None,
                    ):
                        raise _Replayed
                record(
                    Event.TOKEN_ISSUED,
                    actor=request.user,
                    client=request.client,
                    request=request,
                    grant_type=request.grant_type,
                    scope=token.get("scope", ""),
                    refresh="refresh_token" in token,
                    expires_in=token.get("expires_in"),
                )
                return saved
        except _Replayed:
            pass
        if grant is not None:
            used = Grant.objects.select_related("user").get(pk=grant.pk)  # with the first use's tokens
            revoke_tokens_issued_from(used)
            record(Event.CODE_REUSE, actor=used.user, client=request.client, request=request, race=True)
            raise errors.InvalidGrantError(
                description="The authorization code was already used.", request=request
            )
        RefreshToken.revoke_family(previous.token_family)
        record(
            Event.REFRESH_TOKEN_REUSE, actor=previous.user, client=request.client, request=request, race=True
        )
        raise errors.InvalidGrantError(description="The refresh token was already used.", request=request)

    def finalize_id_token(self, id_token, token, token_handler, request):
        """DOT's, with RS256 ID tokens signed by ``keys.sign_jwt`` and no transaction of their own.

        DOT signs through jwcrypto's JWT object (a third of the token endpoint's CPU went to it) and
        wraps the ID token row's save in a transaction, which is empty here: the row is saved later,
        with the tokens (``_save_id_token``). Other algorithms go DOT's way.
        """
        if request.client.algorithm != request.client.RS256_ALGORITHM:
            return super().finalize_id_token(id_token, token, token_handler, request)
        claims, expiration_time = self.get_id_token_dictionary(token, token_handler, request)
        id_token.update(**claims)
        if "nonce" not in id_token and request.nonce:  # oauthlib bug #746, as DOT works around it
            id_token["nonce"] = request.nonce
        signed = sign_jwt(id_token)
        row = self._save_id_token(id_token["jti"], request, expiration_time)
        request.access_token = request.id_token = row  # as DOT leaves them
        return signed

    def _save_id_token(self, jti, request, expires, *args, **kwargs):
        """DOT's ID token row, inserted by ``save_bearer_token`` in the transaction of the tokens."""
        id_token = IDToken(
            user=request.user,
            scope=request.scope or " ".join(request.scopes),
            expires=expires,
            jti=jti,
            application=request.client,
        )
        request._idp_unsaved_id_token = id_token
        return id_token

    def _create_access_token(self, expires, request, token, source_refresh_token=None):
        """DOT's access token, linked to the ID token row ``save_bearer_token`` just inserted.

        DOT would re-parse and re-verify the ID token JWT and read that row back by ``jti``.
        """
        access_token = AccessToken(
            user=request.user,
            scope=token["scope"],
            expires=expires,
            id_token=getattr(request, "id_token", None) if token.get("id_token") else None,
            application=request.client,
            source_refresh_token=source_refresh_token,
            resource=getattr(request, "resource", None) or [],
            claims=_claims_request(request),
        )
        self._set_token_value(access_token, token["access_token"])
        hot_path.INSERT_ACCESS_TOKEN.save(access_token)
        request._idp_access_token = access_token
        return access_token

    def _create_refresh_token(self, request, refresh_token_code, access_token, previous_refresh_token):
        """DOT's refresh token, keeping the family, the claims request and the original sign-in."""
        refresh_token = RefreshToken(
            user=request.user,
            application=request.client,
            access_token=access_token,
            token_family=previous_refresh_token.token_family if previous_refresh_token else uuid.uuid4(),
            resource=getattr(request, "resource", None) or [],
            auth_time=getattr(request, "auth_time", None),
            amr=" ".join(getattr(request, "amr", None) or []),
            claims=_claims_request(request),
        )
        self._set_token_value(refresh_token, refresh_token_code)
        hot_path.INSERT_REFRESH_TOKEN.save(refresh_token)
        request._idp_refresh_token = refresh_token
        return refresh_token

    # --- refresh tokens --------------------------------------------------------------------------

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs) -> bool:
        """DOT's check, then ``refresh_token_is_live``: the predicate introspection answers with too."""
        valid = super().validate_refresh_token(refresh_token, client, request, *args, **kwargs)
        if valid and not refresh_token_is_live(request.refresh_token_instance):
            return False
        if valid:
            previous = request.refresh_token_instance
            request.auth_time = previous.auth_time
            request.amr = previous.amr.split()
            request.claims = previous.claims
        elif refresh_token:
            # DOT revokes the whole family when a revoked (rotated or revoked) token comes back.
            reused = (
                RefreshToken.objects.filter(
                    token_checksum=hashlib.sha256(refresh_token.encode()).hexdigest(),
                    revoked__isnull=False,
                    application=client,
                )
                .select_related("user")
                .first()
            )
            if reused is not None:
                record(Event.REFRESH_TOKEN_REUSE, actor=reused.user, client=client, request=request)
        return valid

    # --- revocation ------------------------------------------------------------------------------

    def revoke_token(self, token, token_type_hint, request, *args, **kwargs) -> None:
        """RFC 7009 revocation by the client itself, recorded when a token of the client was found."""
        checksum = hashlib.sha256(token.encode()).hexdigest()
        client_pk = getattr(request.client, "pk", None)
        found = client_pk is not None and (
            AccessToken.objects.filter(token_checksum=checksum, application_id=client_pk).exists()
            or RefreshToken.objects.filter(
                token_checksum=checksum, application_id=client_pk, revoked__isnull=True
            ).exists()
        )
        super().revoke_token(token, token_type_hint, request, *args, **kwargs)
        if found:
            record(Event.TOKEN_REVOKED, client=request.client, request=request, via="revocation endpoint")

    # --- ID token and userinfo -------------------------------------------------------------------

    def get_id_token_dictionary(self, token, token_handler, request):
        """``sub`` and the protocol claims, plus claims the RP asked for in the ID token by name.

        Scope claims go to userinfo, not the ID token, when an access token is issued (Core 5.4).
        """
        now = timezone.now()
        expires = now + timedelta(seconds=oauth2_settings.ID_TOKEN_EXPIRE_SECONDS)
        auth_time = getattr(request, "auth_time", None) or now
        claims = claim_values(request.user, requested_claims(request.claims, targets=("id_token",)))
        claims.update(
            sub=str(request.user.sub),
            iss=idp_settings.ISSUER,
            exp=int(expires.timestamp()),
            auth_time=int(auth_time.timestamp()),
            jti=str(uuid.uuid4()),
            azp=request.client.client_id,
        )
        if getattr(request, "amr", None):
            claims["amr"] = list(request.amr)
        return claims, expires

    def get_userinfo_claims(self, request) -> dict:
        """The claims the token's scopes release, plus those the RP asked for by name at consent."""
        claims = claims_for(request.user, scopes=request.scopes)
        named = requested_claims(getattr(request.access_token, "claims", None), targets=("userinfo",))
        claims.update(claim_values(request.user, named))
        return claims

    def get_discovery_claims(self, request) -> list[str]:
        return supported_claims()

    # --- prompt=none: the consent view decides; these oauthlib hooks must not raise --------------

    def validate_silent_login(self, request) -> bool:
        return True

    def validate_silent_authorization(self, request) -> bool:
        return True


def _basic_credentials(auth_string: str | None, request) -> tuple[str | None, str | None]:
    """``client_id`` and secret from an HTTP Basic credential (RFC 6749 §2.3.1 form-encoding)."""
    if not auth_string:
        return None, None
    try:
        decoded = base64.b64decode(auth_string).decode(getattr(request, "encoding", None) or "utf-8")
        client_id, secret = decoded.split(":", 1)
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
        return None, None
    return unquote_plus(client_id), unquote_plus(secret)


def _claims_request(request) -> dict:
    claims = getattr(request, "claims", None)
    return claims if isinstance(claims, dict) else {}


def revoke_tokens_issued_from(grant) -> None:
    """Revoke every token issued from an authorization code: its access token and refresh family."""
    if grant.token_family is not None:
        RefreshToken.revoke_family(grant.token_family)
    if grant.access_token_id is not None:
        AccessToken.objects.filter(pk=grant.access_token_id).delete()

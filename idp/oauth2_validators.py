"""The oauthlib entry point: DOT's validator, its hooks handing over to the modules that own each concern."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from django.utils import timezone
from jwcrypto import jws
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.settings import oauth2_settings
from oauthlib.oauth2.rfc6749 import errors

from . import pkce, tokens
from .authorization import invalid_target
from .claims import userinfo_claims
from .client_auth import ClientAuthentication
from .conf import idp_settings
from .db import lookups
from .id_tokens import id_token_claims
from .key_set import ALGORITHMS as SIGNING_ALGORITHMS
from .keys import sign_jwt, verification_key
from .resources import narrow_to_code
from .token_checks import person_may_use_tokens, refresh_token_is_live
from .tokens.state import state_of
from .tokens.stored import Grant


def _epoch_to_datetime(value: int | float | None) -> datetime | None:
    return datetime.fromtimestamp(value, tz=UTC) if value is not None else None


class IdpOAuth2Validator(ClientAuthentication, OAuth2Validator):
    """oauthlib's hooks, each handing over to the module that owns the concern.

    A token request (``authorization_code``) asks them in the order of this class: the client
    (``client_auth``); the code, read once into ``TokenRequestState`` (``tokens.state``) and checked
    (``tokens.codes``); the ID token (``id_tokens``, ``keys``); then one transaction saves everything
    (``tokens.save_issued``).
    A refresh asks ``validate_refresh_token`` in place of the code hooks.
    """

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
        return lookups.insert(
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
                sid=getattr(request, "sid", None) or "",
            )
        )

    # --- the token request: the code ------------------------------------------------------------

    def _grant(self, code: str, request):
        """The Grant for ``code``, loaded once per token request (``TokenRequestState``)."""
        state = state_of(request)
        if state.code != code:
            state.code, state.grant = code, tokens.find_code(code)
        return state.grant

    def get_authorization_code_scopes(self, client_id, code, redirect_uri, request):
        grant = self._grant(code, request)
        return grant.scope.split() if grant else []

    def validate_code(self, client_id, code, client, request, *args, **kwargs) -> bool:
        """A code ``tokens.check_code`` accepts (a reused one revokes its tokens); ``save_bearer_token``
        claims it. A ``code_verifier`` that is malformed, or comes for a code issued without a
        challenge, is refused."""
        if problem := pkce.code_verifier_problem(request.code_verifier):
            raise errors.InvalidRequestError(description=problem, request=request)
        grant = self._grant(code, request)
        if not tokens.check_code(grant, client=client, request=request):
            return False
        if problem := pkce.downgrade_problem(grant.code_challenge, code_verifier=request.code_verifier):
            raise errors.InvalidGrantError(description=problem, request=request)
        request.scopes = grant.scope.split()
        request.user = grant.user
        request.auth_time = grant.auth_time
        request.amr = grant.amr.split()
        request.sid = grant.sid
        if grant.nonce:
            request.nonce = grant.nonce
        if grant.claims:
            request.claims = json.loads(grant.claims)
        return True

    def get_code_challenge(self, code, request):
        grant = self._grant(code, request)
        return (grant.code_challenge or None) if grant else None

    def get_code_challenge_method(self, code, request):
        grant = self._grant(code, request)
        return (grant.code_challenge_method or None) if grant else None

    def confirm_redirect_uri(self, client_id, code, redirect_uri, client, request, *args, **kwargs) -> bool:
        grant = self._grant(code, request)
        if grant is None or not grant.redirect_uri_allowed(redirect_uri):
            # RFC 6749 §5.2 names this invalid_grant (oauthlib would answer invalid_request).
            raise errors.InvalidGrantError(
                description="redirect_uri does not match the one in the authorization request.",
                request=request,
            )
        return True

    def get_authorization_code_nonce(self, client_id, code, redirect_uri, request):
        grant = self._grant(code, request)
        return (grant.nonce or None) if grant else None

    def invalidate_authorization_code(self, client_id, code, request, *args, **kwargs) -> None:
        """Nothing left to do: ``save_bearer_token`` claimed the code with the tokens it became."""

    # --- the token request: the ID token --------------------------------------------------------

    def finalize_id_token(self, id_token, token, token_handler, request):
        """DOT's, but signed by ``keys.sign_jwt`` with the client's ``id_token_signed_response_alg``
        (jwcrypto's JWT object cost a third of the endpoint's CPU), and the row is saved later, with
        the tokens. Other algorithms go DOT's way."""
        if request.client.algorithm not in SIGNING_ALGORITHMS:
            return super().finalize_id_token(id_token, token, token_handler, request)
        claims, expiration_time = self.get_id_token_dictionary(token, token_handler, request)
        id_token.update(**claims)
        if "nonce" not in id_token and request.nonce:  # oauthlib bug #746, as DOT works around it
            id_token["nonce"] = request.nonce
        signed = sign_jwt(id_token, alg=request.client.algorithm)
        row = self._save_id_token(id_token["jti"], request, expiration_time)
        request.access_token = request.id_token = row  # as DOT leaves them
        return signed

    def get_id_token_dictionary(self, token, token_handler, request):
        """The ID token's claims (``id_tokens.id_token_claims``) and when it expires."""
        now = timezone.now()
        expires = now + timedelta(seconds=oauth2_settings.ID_TOKEN_EXPIRE_SECONDS)
        auth_time = getattr(request, "auth_time", None) or now
        claims = id_token_claims(
            request.user,
            client=request.client,
            claims_request=request.claims,
            auth_time=auth_time,
            amr=getattr(request, "amr", None),
            expires=expires,
            sid=getattr(request, "sid", None),
        )
        return claims, expires

    def _save_id_token(self, jti, request, expires, *args, **kwargs):
        """DOT's ID token row, inserted by ``save_bearer_token`` with the tokens."""
        id_token = state_of(request).id_token = tokens.new_id_token(request, jti=jti, expires=expires)
        return id_token

    # --- the token request: saving, in one transaction ------------------------------------------

    def save_bearer_token(self, token, request, *args, **kwargs) -> None:
        """DOT's save, inside ``tokens.save_issued``: one transaction that also claims the code or the
        presented refresh token; a replay that lost a race is ``invalid_grant``."""
        state = state_of(request)

        def save() -> tokens.Saved:
            self._save_bearer_token(token, request, *args, **kwargs)
            return state.access_token, state.refresh_token

        id_token, state.id_token = state.id_token, None
        problem = tokens.save_issued(
            token,
            request=request,
            save=save,
            code=state.grant if request.grant_type == "authorization_code" else None,
            presented=getattr(request, "refresh_token_instance", None),
            id_token=id_token,
            device_grant=getattr(request, "idp_device_grant", None),  # idp.device.protocol
        )
        if problem is not None:
            raise errors.InvalidGrantError(description=problem, request=request)

    def _check_and_set_request_resource(self, request):
        """DOT's RFC 8707 handling, with the code's resources from the Grant already loaded."""
        if request.grant_type != "authorization_code":
            return super()._check_and_set_request_resource(request)
        request.grant_type = None  # DOT then only normalises and validates the requested resources
        try:
            super()._check_and_set_request_resource(request)
        finally:
            request.grant_type = "authorization_code"
        narrow_to_code(
            request, grant=self._grant(request.code, request), validate=self._validate_resource_uris
        )

    def _validate_resource_uris(self, request, resources):
        """DOT's RFC 8707 check, which raises ValueError (a 500) on a URI urllib cannot split (``http://[``)."""
        try:
            super()._validate_resource_uris(request, resources)
        except ValueError:
            raise invalid_target(request=request) from None

    def _create_access_token(self, expires, request, token, source_refresh_token=None):
        """DOT's access token, linked to the ID token row without reading it back by ``jti``."""
        state_of(request).access_token = access_token = tokens.save_access_token(
            request,
            value=token["access_token"],
            scope=token["scope"],
            expires=expires,
            id_token=getattr(request, "id_token", None) if token.get("id_token") else None,
            source_refresh_token=source_refresh_token,
        )
        return access_token

    def _create_refresh_token(self, request, refresh_token_code, access_token, previous_refresh_token):
        """DOT's refresh token, keeping the family, the claims request and the original sign-in."""
        state_of(request).refresh_token = refresh_token = tokens.save_refresh_token(
            request, value=refresh_token_code, access_token=access_token, previous=previous_refresh_token
        )
        return refresh_token

    # --- refresh tokens and revocation -----------------------------------------------------------

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs) -> bool:
        """DOT's check, then ``refresh_token_is_live``: the predicate introspection answers with too."""
        valid = super().validate_refresh_token(refresh_token, client, request, *args, **kwargs)
        if valid and not refresh_token_is_live(request.refresh_token_instance):
            return False
        if valid:
            previous = request.refresh_token_instance
            request.auth_time = previous.auth_time
            request.amr = previous.amr.split()
            request.sid = previous.sid
            request.claims = previous.claims
        elif refresh_token:
            tokens.detect_refresh_token_reuse(refresh_token, client=client, request=request)
        return valid

    def revoke_token(self, token, token_type_hint, request, *args, **kwargs) -> None:
        """RFC 7009 revocation by the client itself: ``tokens.revoke_by_client``."""
        tokens.revoke_by_client(token, hint=token_type_hint, client=request.client, request=request)

    # --- bearer tokens (userinfo, the API) and keys ---------------------------------------------

    def _load_access_token(self, token):
        """The access token with its client and user, by checksum; a deactivated person's is unknown."""
        found = lookups.access_token(tokens.checksum(token))
        return found if found is not None and person_may_use_tokens(found.user) else None

    def validate_jwt_bearer_token(self, token, scopes, request) -> bool:
        """An ID token is never an access token: refuse JWT-shaped bearer tokens outright."""
        return False

    def get_userinfo_claims(self, request) -> dict:
        claims_request = getattr(request.access_token, "claims", None)
        return userinfo_claims(
            request.user, client=request.client, scopes=request.scopes, claims_request=claims_request
        )

    def get_oidc_issuer_endpoint(self, request) -> str:
        return idp_settings.ISSUER

    def _get_key_for_token(self, token):
        """Any published key (active or retired), chosen by the token's ``kid``."""
        unverified = jws.JWS()
        unverified.deserialize(token)
        return verification_key(unverified.jose_header.get("kid"))

    # --- prompt=none: the authorization view decides; these oauthlib hooks must not raise -------

    def validate_silent_login(self, request) -> bool:
        return True

    def validate_silent_authorization(self, request) -> bool:
        return True

"""oauthlib's device grant, corrected: where its device endpoint and token grant fall short of RFC 8628.

oauthlib 3.3 (the version pinned), and DOT 3.4's views on top of it, get these wrong:
- the device authorization endpoint never validates the requested scopes against the client
  (oauthlib #949), wants a ``client_id`` in the body even from a client authenticating with HTTP
  Basic, and refuses ``application/x-www-form-urlencoded; charset=UTF-8``;
- the token grant never reads the device code: it issues the *default* scopes, not what the person
  approved (oauthlib #944), and no ID token; DOT answers §3.5 itself before authenticating the client,
  never ``slow_down``, and ``device_not_found`` (404) for an unknown code where §3.5 says
  ``invalid_grant``.
``IdpDeviceAuthorizationEndpoint`` and ``IdpDeviceCodeGrant`` answer as RFC 8628 says (oauthlib PR
#954 proposes the same shape upstream).
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from datetime import timedelta

from django.db import router, transaction
from django.utils import timezone
from oauth2_provider.models import get_device_grant_model
from oauthlib.common import Request
from oauthlib.oauth2.rfc6749 import errors, utils
from oauthlib.oauth2.rfc6749.grant_types.base import GrantTypeBase
from oauthlib.oauth2.rfc8628 import errors as device_errors
from oauthlib.oauth2.rfc8628.endpoints.device_authorization import DeviceAuthorizationEndpoint

from ..token_checks import person_may_use_tokens
from ..tokens import checksum
from . import DEVICE_GRANT_TYPE
from .codes import find_by_device_code, new_device_code, new_user_code, normalise_user_code

# A poll this much earlier than the interval still counts as on time: request latency varies, and a
# client keeping to the interval must never be told to slow down.
POLL_TOLERANCE_SECONDS = 1


def _authenticate(validator, request) -> None:
    """RFC 6749 §3.2.1, as at the token endpoint: confidential clients authenticate, public ones name
    themselves with ``client_id``; either way the client must be one allowed the device grant."""
    if validator.client_authentication_required(request):
        if not validator.authenticate_client(request):
            raise errors.InvalidClientError(request=request)
    elif not request.client_id:
        raise errors.MissingClientIdError(request=request)
    elif not validator.authenticate_client_id(request.client_id, request):
        raise errors.InvalidClientError(request=request)
    request.client_id = request.client_id or request.client.client_id
    if not validator.validate_grant_type(request.client_id, DEVICE_GRANT_TYPE, request.client, request):
        raise errors.UnauthorizedClientError(request=request)


class IdpDeviceAuthorizationEndpoint(DeviceAuthorizationEndpoint):
    """RFC 8628 §3.1-3.2: authenticate, validate the scopes, store the grant by checksums, answer."""

    def validate_device_authorization_request(self, request) -> None:
        for param in ("client_id", "scope"):
            if param in request.duplicate_params:
                raise errors.InvalidRequestError(description=f"Duplicate {param} parameter.", request=request)
        media_type = (request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if media_type != "application/x-www-form-urlencoded":
            raise errors.InvalidRequestError(
                description="Content-Type must be application/x-www-form-urlencoded.", request=request
            )
        _authenticate(self.request_validator, request)
        # oauthlib #949: the scopes, or the client's defaults, must be ones the client may request.
        request.scopes = utils.scope_to_list(request.scope) or self.request_validator.get_default_scopes(
            request.client_id, request
        )
        if not self.request_validator.validate_scopes(
            request.client_id, request.scopes, request.client, request
        ):
            raise errors.InvalidScopeError(request=request)

    def create_device_authorization_response(self, uri, http_method="POST", body=None, headers=None):
        """oauthlib's, with our codes: a user code people can type and a 256-bit device code, stored as
        their checksums with the client, the validated scopes and the expiry. Refusals raise."""
        request = Request(uri, http_method, body, headers)
        self.validate_device_authorization_request(request)
        device_code, user_code = new_device_code(), new_user_code()
        get_device_grant_model().objects.create(
            application=request.client,
            client_id=request.client.client_id,
            device_code=checksum(device_code),
            user_code=checksum(normalise_user_code(user_code)),
            scope=" ".join(dict.fromkeys(request.scopes)),
            interval=self.interval,
            expires=timezone.now() + timedelta(seconds=self.expires_in),
        )
        data = {
            "device_code": device_code,
            "user_code": user_code,
            "verification_uri": self.verification_uri,
            "verification_uri_complete": self.verification_uri_complete(user_code),
            "expires_in": self.expires_in,
            "interval": self.interval,
        }
        return {"Content-Type": "application/json", "Cache-Control": "no-store"}, json.dumps(data), 200


def _at_hash(access_token: str) -> str:
    """OIDC Core 3.1.3.6 ``at_hash`` for RS256: the left half of the SHA-256, base64url."""
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode("ascii").rstrip("=")


class IdpDeviceCodeGrant(GrantTypeBase):
    """The token request of RFC 8628 §3.4, answered as §3.5 says, issuing what the person approved."""

    def validate_token_request(self, request) -> None:
        for validator in self.custom_validators.pre_token:
            validator(request)
        if request.grant_type != DEVICE_GRANT_TYPE:
            raise errors.UnsupportedGrantTypeError(request=request)
        _authenticate(self.request_validator, request)
        device_code = getattr(request, "device_code", None)
        if not device_code:
            raise errors.InvalidRequestError(
                description="The device_code parameter is missing.", request=request
            )
        grant = find_by_device_code(device_code)
        # Another client's device code is as unknown as one never issued.
        if grant is None or grant.application_id != request.client.pk or grant.used_at is not None:
            raise errors.InvalidGrantError(description="Unknown or used device code.", request=request)
        if grant.is_expired():
            raise device_errors.ExpiredTokenError(request=request)
        if grant.status == grant.DENIED:
            raise device_errors.AccessDenied(request=request)
        if grant.status != grant.AUTHORIZED:
            _answer_pending(grant, request)
        if not person_may_use_tokens(grant.user):
            raise errors.InvalidGrantError(description="Unknown or used device code.", request=request)
        request.user = grant.user
        request.scopes = grant.scope.split()  # oauthlib #944: what was approved, never the defaults
        request.auth_time = grant.auth_time
        request.amr = grant.amr.split()
        request.claims = None
        request.idp_device_grant = grant
        # The client's allowed scopes may have shrunk since the person approved.
        if not self.request_validator.validate_scopes(
            request.client_id, request.scopes, request.client, request
        ):
            raise errors.InvalidScopeError(request=request)
        for validator in self.custom_validators.post_token:
            validator(request)

    def create_token_response(self, request, token_handler):
        headers = self._get_default_headers()
        try:
            self.validate_token_request(request)
        except errors.OAuth2Error as error:
            headers.update(error.headers)
            return headers, error.json, error.status_code
        token = token_handler.create_token(request, refresh_token=self.refresh_token)
        for modifier in self._token_modifiers:
            token = modifier(token, token_handler, request)
        if "openid" in request.scopes:
            # What oauthlib's OpenID grants start every ID token with (OIDC Core 2, 3.1.3.6).
            id_token = {
                "aud": request.client_id,
                "iat": int(time.time()),
                "at_hash": _at_hash(token["access_token"]),
            }
            token["id_token"] = self.request_validator.finalize_id_token(
                id_token, token, token_handler, request
            )
        try:
            self.request_validator.save_token(token, request)
        except errors.OAuth2Error as error:
            headers.update(error.headers)
            return headers, error.json, error.status_code
        return headers, json.dumps(token), 200


def _answer_pending(grant, request) -> None:
    """§3.5 while the person has not answered: ``slow_down`` to a device polling faster than its
    interval (which grows by 5 seconds, for good), else ``authorization_pending``."""
    model = type(grant)
    now = timezone.now()
    with transaction.atomic(using=router.db_for_write(model)):
        current = (
            model.objects.select_for_update().filter(pk=grant.pk).values("polled_at", "interval").first()
        )
        if current is None:  # cleaned up since it was read
            raise errors.InvalidGrantError(description="Unknown or used device code.", request=request)
        too_soon = (
            current["polled_at"] is not None
            and (now - current["polled_at"]).total_seconds() < current["interval"] - POLL_TOLERANCE_SECONDS
        )
        interval = current["interval"] + 5 if too_soon else current["interval"]
        model.objects.filter(pk=grant.pk).update(polled_at=now, interval=interval)
    if too_soon:
        raise device_errors.SlowDownError(
            description=f"Poll at most every {interval} seconds.", request=request
        )
    raise device_errors.AuthorizationPendingError(request=request)

"""ID tokens: the claims this provider puts in one, and reading one back (an ``id_token_hint``)."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime

from jwcrypto import jws, jwt
from jwcrypto.common import JWException

from .claims import claim_values, requested_claims
from .conf import idp_settings
from .keys import verification_key
from .mfa.acr import acr_for, requested_acr
from .subjects import sub_for

# RFC 7515 §7.1: three base64url segments. jwcrypto decodes each with Python's lenient base64, which
# skips characters outside the alphabet, and verifies the signature over the segments re-encoded: a
# token with junk inserted would pass as the genuine one it was made from.
COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


def id_token_claims(
    user, *, client, claims_request, auth_time: datetime, amr, expires: datetime, sid: str | None = None
) -> dict:
    """``sub`` and the protocol claims (``sid``: the browser session's, when known), plus claims the RP
    asked for in the ID token by name.

    Scope claims go to userinfo, not the ID token, when an access token is issued (Core 5.4).
    """
    claims = claim_values(user, requested_claims(claims_request, targets=("id_token",)))
    claims.update(
        sub=sub_for(user, client),
        iss=idp_settings.ISSUER,
        exp=int(expires.timestamp()),
        auth_time=int(auth_time.timestamp()),
        jti=str(uuid.uuid4()),
        azp=client.client_id,
    )
    if amr:
        claims["amr"] = list(amr)
        # The strongest requested context the sign-in satisfies, else the strongest it does (idp.mfa.acr).
        requested, _essential = requested_acr(acr_values=None, claims_request=claims_request)
        if acr := acr_for(amr, requested=requested):
            claims["acr"] = acr
    if sid:
        claims["sid"] = sid
    return claims


def verified_claims(token: str) -> dict | None:
    """The claims of an ID token signed by one of our published keys for our issuer, else None.

    Expiry is not checked: a hint stays a valid statement of who the RP thinks is signed in.
    """
    if not isinstance(token, str) or not COMPACT_JWS.fullmatch(token):
        return None
    try:
        unverified = jws.JWS()
        unverified.deserialize(token)
        key = verification_key(unverified.jose_header.get("kid"))
        if key is None or unverified.jose_header.get("alg") != key.get("alg"):
            return None
        claims = json.loads(jwt.JWT(jwt=token, key=key, algs=[key.get("alg")], check_claims={}).claims)
    except (JWException, ValueError, TypeError):
        return None
    if not isinstance(claims, dict) or claims.get("iss") != idp_settings.ISSUER or "sub" not in claims:
        return None
    return claims

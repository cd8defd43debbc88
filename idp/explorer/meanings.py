"""One plain sentence for every error code this provider answers, every claim it issues, and every
introspection member."""

from __future__ import annotations

ERRORS: dict[str, str] = {
    # RFC 6749 §4.1.2.1 and §5.2: the authorization and the token endpoint.
    "invalid_request": "The request is malformed: a required parameter is missing, repeated or has a value "
    "the server does not accept (the description says which).",
    "invalid_client": "Client authentication failed: an unknown client, a wrong secret, or an "
    "authentication method this client is not registered for.",
    "invalid_grant": "The code, refresh token or device code is invalid, expired, already used or revoked, "
    "or does not match the redirect_uri or code_verifier it was issued with.",
    "unauthorized_client": "This client is not allowed to use this grant type or response type.",
    "unsupported_grant_type": "The server does not support this grant_type.",
    "invalid_scope": "A requested scope is unknown, malformed, or more than this client may have.",
    "unsupported_response_type": "The server does not issue this response_type: only response_type=code.",
    "access_denied": "The person (or the server) said no: nothing is granted.",
    "server_error": "Something went wrong on the server; trying again later may work.",
    "temporarily_unavailable": "The server is overloaded or in maintenance; try again later.",
    # OpenID Connect Core 3.1.2.6.
    "login_required": "prompt=none was asked, but the person must sign in (again) first.",
    "consent_required": "prompt=none was asked, but the person has not consented to this app yet.",
    "interaction_required": "prompt=none was asked, but the person must do something first, such as a "
    "second sign-in step.",
    "account_selection_required": "prompt=none was asked, but the person must choose an account first.",
    "invalid_request_uri": "The request_uri cannot be fetched or holds an invalid request object.",
    "invalid_request_object": "The request object (a signed request) is invalid.",
    "request_not_supported": "This server does not accept request objects (the request parameter).",
    "request_uri_not_supported": "This server does not accept request objects by reference (request_uri).",
    "registration_not_supported": "This server does not accept the registration parameter.",
    # RFC 8707 §2, RFC 9470 §3.
    "invalid_target": "A resource indicator is malformed or names a resource this client may not use.",
    "unmet_authentication_requirements": "The sign-in cannot meet the acr the request requires as "
    "essential (for example a second factor the person has not set up).",
    # RFC 8628 §3.5: the device grant.
    "authorization_pending": "The person has not approved the device yet: poll again after the interval.",
    "slow_down": "The device polls too often: wait 5 more seconds between polls from now on.",
    "expired_token": "The device code expired before the person approved it: start again.",
    # RFC 6750 §3.1 and RFC 7009 §2.2.1: bearer tokens and revocation.
    "invalid_token": "The access token is missing, expired, revoked or malformed: get a new one.",
    "insufficient_scope": "The access token is valid but lacks a scope this request needs.",
    "unsupported_token_type": "The server cannot revoke this type of token.",
    # Errors oauthlib raises on the client side (a relying party built with it meets them).
    "insecure_transport": "OAuth needs https (plain http is only for local development).",
    "mismatching_state": "The state in the callback is not the one the app sent: possible CSRF, stop.",
    "missing_code": "The callback carries no code.",
    "missing_token": "The token response carries no access token.",
    "missing_token_type": "The token response carries no token_type.",
    "token_expired": "The access token expired: refresh it, or sign in again.",
    # RP-initiated logout (DOT).
    "logout_denied": "The person chose not to sign out.",
    # The resource API (DRF's codes, kept where OAuth has none).
    "not_authenticated": "The API needs an access token in the Authorization header.",
    "authentication_failed": "The API could not authenticate the request.",
    "not_found": "There is no such API endpoint or object.",
    "method_not_allowed": "This API endpoint does not take this HTTP method.",
    "not_acceptable": "The API cannot answer in the media type the Accept header asks for.",
    "unsupported_media_type": "The API does not read a body of this Content-Type.",
    "throttled": "Too many requests: wait the number of seconds in Retry-After.",
    "error": "The API failed; the description says why.",
    # The passkey endpoints' JSON answers to the sign-in page's script.
    "sign_in_again": "The sign-in took too long or its session ended: start the sign-in again.",
    "step_up_required": "Adding a passkey needs a fresh sign-in first.",
}

CLAIMS: dict[str, str] = {
    # Protocol claims (OpenID Connect Core §2, RFC 7519 §4.1).
    "iss": "Who issued the token: this server's issuer URL. The app must check it is the one it trusts.",
    "sub": "The person's identifier at this server, stable and never reassigned (pairwise per app when "
    "configured). Key accounts on iss + sub, never on email.",
    "aud": "Who the token is for: the client_id of the app. An app must refuse tokens for someone else.",
    "azp": "The authorized party: the client_id the token was issued to.",
    "exp": "When the token expires (seconds since 1970, UTC): refuse it after this.",
    "iat": "When the token was issued (seconds since 1970, UTC).",
    "nbf": "The token must not be accepted before this time.",
    "jti": "A unique identifier for this token.",
    "auth_time": "When the person last actually signed in (not when the token was issued).",
    "nonce": "The value the app sent in the authorization request, echoed back: proves the ID token "
    "answers that request and is not replayed.",
    "acr": "How strong the sign-in was (authentication context class): a single factor (REFEDS SFA), "
    "multi-factor (REFEDS MFA), or phishing-resistant (phr).",
    "amr": "How the person signed in: pwd for a password, otp for a one-time code, hwk for a passkey, "
    "mfa when more than one factor.",
    "at_hash": "Half of the hash of the access token issued with it: binds that access token to this "
    "ID token.",
    "c_hash": "Half of the hash of the code issued with it: binds the code to this ID token.",
    "sid": "The session at the server: logout notifications name it.",
    "events": "What a logout token announces: the back-channel logout event.",
    # Standard claims (OpenID Connect Core §5.1).
    "name": "The person's full name, for display.",
    "given_name": "Given (first) name.",
    "family_name": "Family (last) name.",
    "middle_name": "Middle name.",
    "nickname": "A casual name.",
    "preferred_username": "The name the person likes to be called by; not unique, not stable.",
    "profile": "The URL of the person's profile page.",
    "picture": "The URL of the person's picture.",
    "website": "The URL of the person's web site.",
    "email": "The person's email address; check email_verified before trusting it.",
    "email_verified": "Whether this server has verified that the person controls the email address.",
    "gender": "The person's gender, as they stated it.",
    "birthdate": "Birthday, YYYY-MM-DD (or YYYY, or 0000-MM-DD).",
    "zoneinfo": "The person's time zone, such as Europe/Paris.",
    "locale": "The person's language and region, such as en-GB.",
    "phone_number": "The person's phone number, in E.164 form where possible.",
    "phone_number_verified": "Whether this server has verified the phone number.",
    "address": "The person's postal address (a JSON object).",
    "updated_at": "When the person's profile last changed (seconds since 1970, UTC).",
}

INTROSPECTION_MEMBERS: dict[str, str] = {
    "active": "Whether the token is valid right now. With false, nothing else is said.",
    "scope": "The scopes the token grants, separated by spaces.",
    "client_id": "The client the token was issued to.",
    "username": "The person the token acts for, as this server names them.",
    "token_type": "The kind of token: Bearer.",
    "exp": CLAIMS["exp"],
    "iat": CLAIMS["iat"],
    "nbf": CLAIMS["nbf"],
    "sub": CLAIMS["sub"],
    "aud": "Who the token is meant for.",
    "iss": CLAIMS["iss"],
    "jti": CLAIMS["jti"],
}

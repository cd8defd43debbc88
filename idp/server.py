"""oauthlib's OpenID server, issuing refresh tokens only for grants that include ``offline_access``."""

from __future__ import annotations

from oauthlib.openid import Server


def _refresh_token_only_for_offline_access(token: dict, token_handler, request) -> dict:
    # OIDC Core 11: offline access is what a refresh token is for; without it the client signs the
    # person in again (silently, with prompt=none) when its access token expires.
    if "offline_access" not in (request.scopes or []):
        token.pop("refresh_token", None)
    return token


class IdpServer(Server):
    """Authorization code grants mint a refresh token only when ``offline_access`` was granted."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for grant in (self.auth_grant, self.openid_connect_auth):
            grant.register_token_modifier(_refresh_token_only_for_offline_access)

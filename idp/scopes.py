"""The scopes backend DOT asks which scopes exist, which a client may request and which are default."""

from __future__ import annotations

from oauth2_provider.scopes import BaseScopes

from .claims import SCOPES, USER_SCOPES


class IdpScopes(BaseScopes):
    """Scopes from the claims catalogue; service clients get no person-related scope."""

    def get_all_scopes(self) -> dict[str, str]:
        return {name: str(spec["description"]) for name, spec in SCOPES.items()}

    def get_available_scopes(self, application=None, request=None, *args, **kwargs) -> list[str]:
        """The client's allowed scopes; by default the OpenID scopes, or none for a service."""
        if application is None:
            return list(SCOPES)
        if application.allowed_scopes.strip():
            scopes = [scope for scope in application.allowed_scopes.split() if scope in SCOPES]
        else:
            scopes = list(USER_SCOPES)
        if application.authorization_grant_type == "client-credentials":
            scopes = [scope for scope in scopes if scope not in USER_SCOPES]
        return scopes

    def get_default_scopes(self, application=None, request=None, *args, **kwargs) -> list[str]:
        if application is not None and application.authorization_grant_type == "client-credentials":
            return []
        return ["openid"]

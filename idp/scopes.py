"""The scopes backend DOT asks which scopes exist, which a client may request and which are default."""

from __future__ import annotations

from django.utils.translation import get_language
from oauth2_provider.scopes import BaseScopes

from .claims import OPENID_SCOPES, SCOPES, SERVICE_SCOPES, USER_SCOPES


class IdpScopes(BaseScopes):
    """Scopes from the claims catalogue: person scopes for clients that sign people in, service scopes
    for client-credentials clients, never the other way round."""

    # DOT asks for every description on each bearer request (AccessToken.scopes); translate once per language.
    _descriptions: dict[str | None, dict[str, str]] = {}

    def get_all_scopes(self) -> dict[str, str]:
        language = get_language()
        descriptions = self._descriptions.get(language)
        if descriptions is None:
            descriptions = {name: str(spec["description"]) for name, spec in SCOPES.items()}
            self._descriptions[language] = descriptions
        return dict(descriptions)

    def get_available_scopes(self, application=None, request=None, *args, **kwargs) -> list[str]:
        """The client's allowed scopes; by default the OpenID scopes, or none for a service."""
        if application is None:
            return list(SCOPES)
        if application.allowed_scopes.strip():
            allowed = set(application.allowed_scopes.split())
        else:
            allowed = OPENID_SCOPES
        if application.authorization_grant_type == "client-credentials":
            fitting = SERVICE_SCOPES
        else:
            fitting = USER_SCOPES
        return [scope for scope in SCOPES if scope in allowed and scope in fitting]

    def get_default_scopes(self, application=None, request=None, *args, **kwargs) -> list[str]:
        if application is not None and application.authorization_grant_type == "client-credentials":
            return []
        return ["openid"]

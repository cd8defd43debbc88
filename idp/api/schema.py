"""The OpenAPI description: our OAuth 2 endpoints as the security scheme, and every error documented."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from ..claims import SCOPES, SERVICE_SCOPES, USER_SCOPES
from ..conf import idp_settings
from .serializers import ErrorSerializer

DOCS_OAUTH2_REDIRECT = "idp-api:docs-oauth2-redirect"


def _scopes(names) -> dict[str, str]:
    return {name: str(spec["description"]) for name, spec in SCOPES.items() if name in names}


def _endpoint(name: str) -> str:
    return idp_settings.issuer_origin + reverse(f"oauth2_provider:{name}")


def spectacular_settings() -> dict[str, Any]:
    """drf-spectacular settings for the schema and the docs, following the current issuer."""
    return {
        "TITLE": "Identity provider API",
        "DESCRIPTION": (
            "Resources protected by access tokens from this provider. Send the token in an "
            "`Authorization: Bearer` header; each operation lists the scope it needs."
        ),
        "VERSION": "1",
        "SERVERS": [{"url": idp_settings.issuer_origin}],
        "SCHEMA_PATH_PREFIX": "/api/v1",
        "SWAGGER_UI_DIST": "SIDECAR",
        "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
        "SWAGGER_UI_SETTINGS": {
            "oauth2RedirectUrl": idp_settings.issuer_origin + reverse(DOCS_OAUTH2_REDIRECT),
            "persistAuthorization": False,
        },
        "SWAGGER_UI_OAUTH2_CONFIG": {
            "clientId": idp_settings.API_DOCS_CLIENT_ID,
            "usePkceWithAuthorizationCodeGrant": True,
            "scopes": ["profile", "consents:manage"],
        },
    }


class IdpOAuth2AuthenticationScheme(OpenApiAuthenticationExtension):
    """OAuth 2 at this provider: authorization code + PKCE for people, client credentials for services."""

    target_class = "idp.api.authentication.IdpOAuth2Authentication"
    name = "oauth2"
    priority = 1

    def get_security_requirement(self, auto_schema):
        return {self.name: list(getattr(auto_schema.view, "required_scopes", []))}

    def get_security_definition(self, auto_schema):
        token_url = _endpoint("token")
        return {
            "type": "oauth2",
            "description": "Tokens from this provider. PKCE (S256) is required with the authorization code.",
            "flows": {
                "authorizationCode": {
                    "authorizationUrl": _endpoint("authorize"),
                    "tokenUrl": token_url,
                    "refreshUrl": token_url,
                    "scopes": _scopes(USER_SCOPES),
                },
                "clientCredentials": {"tokenUrl": token_url, "scopes": _scopes(SERVICE_SCOPES)},
            },
        }


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


class IdpAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema, adding the errors every API operation can answer with."""

    def get_override_parameters(self):
        return [
            *super().get_override_parameters(),
            OpenApiParameter(
                "WWW-Authenticate",
                str,
                OpenApiParameter.HEADER,
                response=[401, 403],
                required=True,
                description="RFC 6750 Bearer challenge (error, and the needed scope for a 403).",
            ),
            OpenApiParameter(
                "Retry-After",
                int,
                OpenApiParameter.HEADER,
                response=[429],
                required=True,
                description="Seconds to wait before the next request.",
            ),
        ]

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        errors = {
            "401": _error("No token, or an invalid, expired or revoked one (`invalid_token`)."),
            "403": _error("The token lacks the scope the operation needs (`insufficient_scope`)."),
            "429": _error("Too many requests for this client or person; see Retry-After."),
        }
        errors["400"] = _error("Invalid query parameters, or a token in the URL query (`invalid_request`).")
        if "{" in self.path or getattr(self.view, "pagination_class", None):
            errors["404"] = _error("No such resource, or no such page.")
        for code, response in sorted(errors.items()):
            responses.setdefault(code, self._get_response_for_code(response, code, direction=direction))
        return responses

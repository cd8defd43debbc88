"""The API's views: the person's profile and connected apps, the user directory, schema and docs."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.settings import patched_settings
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework import generics, status
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from ..claims import claims_for
from ..consent import revoke_consent
from ..identifiers import is_identifier
from ..models import Consent
from ..subjects import sub_for, user_for_sub
from .authentication import IdpOAuth2Authentication
from .exceptions import api_exception_handler
from .filters import UserFilter
from .permissions import IdpTokenHasScope, TokenForPerson
from .schema import IdpAutoSchema, spectacular_settings
from .serializers import ConsentSerializer, MeSerializer, UserSerializer
from .throttling import ClientRateThrottle, PersonRateThrottle, WindowThrottle, check

# Text parameters cannot hold a NUL character (PostgreSQL text cannot store one): say so in the schema.
NO_NUL = r"^[^\u0000]*$"


class ProtectedApi(APIView):
    """Bearer tokens only (no session, no basic auth), a scope per view, throttles, JSON in and out."""

    authentication_classes = [IdpOAuth2Authentication]
    permission_classes = [IdpTokenHasScope]
    throttle_classes = [ClientRateThrottle, PersonRateThrottle]
    renderer_classes = [JSONRenderer]
    parser_classes = [JSONParser]
    schema = IdpAutoSchema()
    required_scopes: list[str] = []

    def get_exception_handler(self):
        return api_exception_handler

    def check_throttles(self, request):
        # Every WindowThrottle in one cache round trip (DRF asks each throttle in turn); any other
        # throttle a view adds is asked the DRF way.
        throttles = self.get_throttles()
        ours = [throttle for throttle in throttles if isinstance(throttle, WindowThrottle)]
        wait = check(request, ours) if ours else None
        denied, waits = wait is not None, [wait]
        for throttle in throttles:
            if not isinstance(throttle, WindowThrottle) and not throttle.allow_request(request, self):
                denied = True
                waits.append(throttle.wait())
        if denied:
            self.throttled(request, max((wait for wait in waits if wait is not None), default=None))

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        return response


class MeApi(ProtectedApi):
    """The token's person, with the claims the token's scopes release."""

    required_scopes = ["profile"]
    permission_classes = [IdpTokenHasScope, TokenForPerson]

    # The claims are already JSON values of the serializer's types (a test holds them equal), so the
    # answer keeps the serializer's fields without paying for its field copies on every request.
    fields = tuple(MeSerializer._declared_fields)

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        claims = {
            **claims_for(request.user, scopes=request.auth.scope.split()),
            "sub": sub_for(request.user, request.auth.application),
        }
        return Response({name: claims[name] for name in self.fields if name in claims})


class MyConsentsApi(ProtectedApi, generics.ListAPIView):
    """The apps the person connected to their account, and what each may do."""

    required_scopes = ["consents:manage"]
    permission_classes = [IdpTokenHasScope, TokenForPerson]
    serializer_class = ConsentSerializer
    pagination_class = None

    def get_queryset(self):
        return (
            Consent.objects.filter(user=self.request.user).select_related("application").order_by("created")
        )


class MyConsentApi(ProtectedApi):
    """Disconnect an app: forget the consent and revoke every token it holds for the person."""

    required_scopes = ["consents:manage"]
    permission_classes = [IdpTokenHasScope, TokenForPerson]

    @extend_schema(
        responses={204: None}, parameters=[OpenApiParameter("client_id", str, "path", pattern=NO_NUL)]
    )
    def delete(self, request, client_id: str):
        consent = None
        if is_identifier(client_id):
            consent = (
                Consent.objects.select_related("application")
                .filter(user=request.user, application__client_id=client_id)
                .first()
            )
        if consent is None:
            raise NotFound(f"You have not connected the app {client_id!r}.")
        revoke_consent(request.user, consent.application)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserPagination(PageNumberPagination):
    """Pages of 50 users; ``page_size`` up to 200."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


@extend_schema_view(
    get=extend_schema(
        parameters=[
            OpenApiParameter("username", str, description="Exact username.", pattern=NO_NUL),
            OpenApiParameter("email", str, description="Email address, in any case.", pattern=NO_NUL),
        ]
    )
)
class UsersApi(ProtectedApi, generics.ListAPIView):
    """The user directory, for services (client credentials with ``users:read``)."""

    required_scopes = ["users:read"]
    serializer_class = UserSerializer
    pagination_class = UserPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = UserFilter
    queryset = get_user_model().objects.select_related("idp_subject").order_by("pk")


class UserApi(ProtectedApi, generics.RetrieveAPIView):
    """One user of the directory, by ``sub``."""

    required_scopes = ["users:read"]
    serializer_class = UserSerializer
    queryset = get_user_model().objects.all()
    lookup_field = "sub"

    def get_object(self):
        """The person this client knows by ``sub`` (its pairwise value, for a pairwise client)."""
        user = user_for_sub(str(self.kwargs["sub"]), self.request.auth.application)
        if user is None:
            raise NotFound("No user has this sub.")
        return user


class SchemaApi(SpectacularAPIView):
    """The OpenAPI 3 schema of the API (public)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []

    @property
    def custom_settings(self):
        return spectacular_settings()

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class DocsApi(SpectacularSwaggerView):
    """Swagger UI for the schema; "Authorize" signs in with authorization code + PKCE.

    drf-spectacular's page starts Swagger UI with an inline script and an inline ``<style>``, which
    the site's Content-Security-Policy blocks. Here the configuration travels as a JSON data block
    and a static script (``idp/api_docs.js``) starts Swagger UI, so ``script-src 'self'`` holds; the
    page's own styles are a static file. Swagger UI (React) sets element styles through the CSSOM,
    which ``style-src 'self'`` does not govern, so the page keeps the site's policy unchanged. It
    also keeps the site's ``Cross-Origin-Opener-Policy: same-origin`` (drf-spectacular sends
    ``unsafe-none``): the sign-in popup's pages share it, so the popup keeps its ``window.opener``.
    """

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []
    url_name = "idp-api:schema"
    title = "Identity provider API"
    template_name = "idp/api_docs.html"

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        settings = spectacular_settings()
        with patched_settings(settings):
            context = {
                "title": self.title,
                "swagger_ui_css": self._swagger_ui_resource("swagger-ui.css"),
                "swagger_ui_bundle": self._swagger_ui_resource("swagger-ui-bundle.js"),
                "swagger_ui_standalone": self._swagger_ui_resource("swagger-ui-standalone-preset.js"),
                "favicon_href": self._swagger_ui_favicon(),
                "swagger_config": {
                    "url": self._get_schema_url(request),
                    "settings": settings["SWAGGER_UI_SETTINGS"],
                    "oauth2": settings["SWAGGER_UI_OAUTH2_CONFIG"],
                },
            }
        return Response(context, template_name=self.template_name)


def docs_oauth2_redirect(request: HttpRequest) -> HttpResponse:
    """Swagger UI's OAuth 2 redirect page, served by Django rather than as a static file.

    Its script hands the code to the docs page through ``window.opener``. Served as a static file
    (runserver's static handler skips the middleware) it lacked the Cross-Origin-Opener-Policy of
    the sign-in pages before it, and Chromium then cut the popup off from its opener.
    """
    response = render(request, "idp/api_docs_oauth2_redirect.html")
    response["Referrer-Policy"] = "no-referrer"  # the code in this URL stays out of the script's request
    response["Cache-Control"] = "no-store"
    return response


@csrf_exempt
def not_found(request, *args, **kwargs):
    """Any other path under /api/: a JSON 404, never an HTML page (nor a CSRF refusal for a POST)."""
    response = JsonResponse({"error": "not_found", "error_description": "No such API endpoint."}, status=404)
    response["Cache-Control"] = "no-store"
    return response

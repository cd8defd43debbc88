"""The API's views: the person's profile and connected apps, the user directory, schema and docs."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.http import JsonResponse
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
        claims = {**claims_for(request.user, scopes=request.auth.scope.split()), "sub": str(request.user.sub)}
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
    queryset = get_user_model().objects.order_by("pk")


class UserApi(ProtectedApi, generics.RetrieveAPIView):
    """One user of the directory, by ``sub``."""

    required_scopes = ["users:read"]
    serializer_class = UserSerializer
    queryset = get_user_model().objects.all()
    lookup_field = "sub"


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
    """Swagger UI for the schema; "Authorize" signs in with authorization code + PKCE."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []
    url_name = "idp-api:schema"
    title = "Identity provider API"

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        with patched_settings(spectacular_settings()):
            return super().get(request, *args, **kwargs)


def not_found(request, *args, **kwargs):
    """Any other path under /api/: a JSON 404, never an HTML page."""
    response = JsonResponse({"error": "not_found", "error_description": "No such API endpoint."}, status=404)
    response["Cache-Control"] = "no-store"
    return response

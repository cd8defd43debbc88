"""The provider's URLs with views that need the session where CredentialEndpointsMiddleware answers
without it: a test-only ROOT_URLCONF for system check idp.E009, never the product's."""

from django.http import HttpResponse
from django.urls import include, path
from rest_framework.authentication import SessionAuthentication
from rest_framework.response import Response
from rest_framework.views import APIView


def page_of_the_session(request):
    return HttpResponse(request.session.get("name", ""))


class SessionApi(APIView):
    authentication_classes = [SessionAuthentication]

    def get(self, request):
        return Response({"user": str(request.user)})


urlpatterns = [
    path("userinfo", page_of_the_session),  # shadows the real userinfo endpoint
    path("api/v1/session", SessionApi.as_view()),
    path("", include("project.urls")),
]

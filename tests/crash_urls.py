"""The provider's URLs plus views that fail on purpose: a test-only ROOT_URLCONF, never the product's."""

from django.http import HttpRequest
from django.urls import include, path

from project.urls import handler500

__all__ = ["handler500", "urlpatterns"]

FAILURE = "a failure forced by a test"


def crash(request: HttpRequest):
    raise RuntimeError(FAILURE)


urlpatterns = [
    path("test-crash", crash),
    # Under /api/v1/: answered by CredentialEndpointsMiddleware's own handler, past the browser's middleware.
    path("api/v1/test-crash", crash),
    path("", include("project.urls")),
]

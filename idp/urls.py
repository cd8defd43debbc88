"""The provider's URLs: pages (namespace ``idp``) and protocol endpoints (namespace ``oauth2_provider``).

Include this module without a namespace (``path("", include("idp.urls"))``): it brings both, and
the resource API under ``/api/`` (namespace ``idp-api``).
"""

from django.urls import include, path

from .views import auth, health

page_patterns = [
    path("", auth.home, name="home"),
    path("login", auth.LoginView.as_view(), name="login"),
    path("logout", auth.LogoutView.as_view(), name="logout"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
]

urlpatterns = [
    path("", include((page_patterns, "idp"))),
    path("api/", include("idp.api.urls")),
    path("", include("idp.oauth_urls")),
]

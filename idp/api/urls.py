"""The API's URLs (namespace ``idp-api``): version 1 resources, the schema and the docs."""

from django.urls import path, re_path

from . import views

app_name = "idp-api"

v1_patterns = [
    path("v1/me", views.MeApi.as_view(), name="me"),
    path("v1/me/consents", views.MyConsentsApi.as_view(), name="my-consents"),
    path("v1/me/consents/<str:client_id>", views.MyConsentApi.as_view(), name="my-consent"),
    path("v1/users", views.UsersApi.as_view(), name="users"),
    path("v1/users/<uuid:sub>", views.UserApi.as_view(), name="user"),
]

urlpatterns = [
    *v1_patterns,
    path("schema/", views.SchemaApi.as_view(), name="schema"),
    path("docs/", views.DocsApi.as_view(), name="docs"),
    # Swagger UI's OAuth 2 redirect page: a registered redirect URI of the docs' client.
    path("docs/oauth2-redirect.html", views.docs_oauth2_redirect, name="docs-oauth2-redirect"),
    re_path(r"^", views.not_found),
]

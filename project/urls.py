"""Root URLs: the identity provider at the site root, Django admin under /admin/."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("idp.urls")),
]

# The error pages with the request's reference, so a person's support request finds its traceback.
handler400 = "idp.views.errors.bad_request"
handler500 = "idp.views.errors.server_error"

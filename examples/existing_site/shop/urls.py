"""The site's URLs: the admin, and idp's endpoints and pages at the root."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("idp.urls")),
]

"""A root URLconf that forgot idp's URLs (the case of the system check idp.E014)."""

from django.urls import path

from idp.views import health

urlpatterns = [path("healthz", health.healthz)]

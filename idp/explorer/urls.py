"""The flow explorer's URLs (namespace ``explorer`` inside ``idp``): ``developers/flows`` and below."""

from django.urls import path

from . import views

app_name = "explorer"

urlpatterns = [
    path("flows", views.index, name="index"),
    path("flows/start", views.start, name="start"),
    path("flows/callback", views.callback, name="callback"),
    path("flows/runs/<uuid:run_id>", views.run_page, name="run"),
    path("flows/runs/<uuid:run_id>/next", views.next_view, name="next"),
    path("flows/runs/<uuid:run_id>/remaining", views.remaining_view, name="remaining"),
    path("flows/runs/<uuid:run_id>/refresh", views.refresh_view, name="refresh"),
    path("flows/runs/<uuid:run_id>/export/<slug:kind>", views.export_view, name="export"),
]

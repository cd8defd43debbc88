"""The provider's URLs: pages (namespace ``idp``) and protocol endpoints (namespace ``oauth2_provider``).

Include this module without a namespace (``path("", include("idp.urls"))``): it brings both, and
the resource API under ``/api/`` (namespace ``idp-api``).
"""

from django.urls import include, path

from .views import account, auth, device, health, theme

page_patterns = [
    path("", auth.home, name="home"),
    path("login", auth.LoginView.as_view(), name="login"),
    path("logout", auth.LogoutView.as_view(), name="logout"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("password-reset", auth.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent", auth.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>",
        auth.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("password-reset/done", auth.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("account/apps", account.connected_apps_page, name="connected-apps"),
    path("account/apps/<int:application_id>/revoke", account.revoke, name="revoke"),
    path("account/profile", account.profile, name="profile"),
    path("account/sessions", account.sessions_page, name="sessions"),
    path("account/sessions/others/end", account.end_other_sessions, name="end-other-sessions"),
    path("account/sessions/<str:sid>/end", account.end_session, name="end-session"),
    path("theme.css", theme.theme, name="theme"),
    path("device", device.device_page, name="device"),
]

# The protocol endpoints first: Django tries the patterns in order, and they take most requests.
urlpatterns = [
    path("", include("idp.oauth_urls")),
    path("api/", include("idp.api.urls")),
    path("", include((page_patterns, "idp"))),
]

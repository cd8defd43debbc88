"""The provider's URLs: pages (namespace ``idp``) and protocol endpoints (namespace ``oauth2_provider``).

Include this module without a namespace (``path("", include("idp.urls"))``): it brings both, and
the resource API under ``/api/`` (namespace ``idp-api``).
"""

from django.urls import include, path

from .views import account, auth, device, health, passkeys, security, theme, verify

page_patterns = [
    path("", auth.home, name="home"),
    path("login", auth.LoginView.as_view(), name="login"),
    path("logout", auth.LogoutView.as_view(), name="logout"),
    path("login/verify", verify.login_verify, name="login-verify"),
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
    path("account/security", security.account_security, name="account-security"),
    path("account/security/totp", security.totp_start, name="totp-start"),
    path("account/security/totp/setup", security.totp_setup, name="totp-setup"),
    path("account/security/totp/<int:device_id>/rename", security.totp_rename, name="totp-rename"),
    path("account/security/totp/<int:device_id>/remove", security.totp_remove, name="totp-remove"),
    path("account/security/recovery-codes", security.recovery_codes_new, name="recovery-codes"),
    path("account/security/disable", security.disable_mfa, name="mfa-disable"),
    path("login/passkey/begin", passkeys.authenticate_begin, name="passkey-authenticate-begin"),
    path("login/passkey/finish", passkeys.authenticate_finish, name="passkey-authenticate-finish"),
    path("account/security/passkeys/begin", passkeys.register_begin, name="passkey-register-begin"),
    path("account/security/passkeys/finish", passkeys.register_finish, name="passkey-register-finish"),
    path("account/security/passkeys/<int:passkey_id>/rename", passkeys.rename, name="passkey-rename"),
    path("account/security/passkeys/<int:passkey_id>/remove", passkeys.remove, name="passkey-remove"),
    path("account/sessions", account.sessions_page, name="sessions"),
    path("account/sessions/others/end", account.end_other_sessions, name="end-other-sessions"),
    path("account/sessions/<str:sid>/end", account.end_session, name="end-session"),
    path("theme.css", theme.theme, name="theme"),
    path("device", device.device_page, name="device"),
    path("developers/", include("idp.explorer.urls")),
]

# The protocol endpoints first: Django tries the patterns in order, and they take most requests.
urlpatterns = [
    path("", include("idp.oauth_urls")),
    path("api/", include("idp.api.urls")),
    path("", include((page_patterns, "idp"))),
]

"""App configuration: system checks and signal wiring happen here and only here."""

from django.apps import AppConfig


class IdpConfig(AppConfig):
    name = "idp"
    verbose_name = "Identity provider"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.apps import apps
        from django.contrib.auth.signals import user_logged_in, user_login_failed

        from . import audit, checks  # noqa: F401  (checks registers the system checks)
        from .sessions import on_user_logged_in

        user_logged_in.connect(on_user_logged_in, dispatch_uid="idp.sessions.record_authentication")
        user_logged_in.connect(audit.on_user_logged_in, dispatch_uid="idp.audit.sign_in")
        user_login_failed.connect(audit.on_user_login_failed, dispatch_uid="idp.audit.sign_in_failed")
        if apps.is_installed("axes"):
            from axes.signals import user_locked_out

            user_locked_out.connect(audit.on_user_locked_out, dispatch_uid="idp.audit.lockout")

"""App configuration: system checks and signal wiring happen here and only here."""

from django.apps import AppConfig


class IdpConfig(AppConfig):
    name = "idp"
    verbose_name = "Identity provider"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from . import checks  # noqa: F401  (registers the system checks)
        from .sessions import on_user_logged_in

        user_logged_in.connect(on_user_logged_in, dispatch_uid="idp.sessions.record_authentication")

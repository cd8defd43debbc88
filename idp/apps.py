"""App configuration: system checks and signal wiring happen here and only here."""

from django.apps import AppConfig


class IdpConfig(AppConfig):
    name = "idp"
    verbose_name = "Identity provider"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.apps import apps
        from django.contrib.auth import get_user_model
        from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
        from django.core.signals import request_finished, setting_changed
        from django.db.models.signals import post_delete, post_save, pre_save
        from oauth2_provider.models import get_application_model

        from . import (  # noqa: F401  (checks register)
            accounts,
            audit,
            browser_sessions,
            checks,
            discovery,
            install_checks,
            key_set,
            logs,
        )
        from .explorer import checks as explorer_checks  # noqa: F401  (checks register)
        from .explorer.runs import forget_runs_at_sign_out
        from .mfa import checks as mfa_checks  # noqa: F401  (checks register)
        from .sessions import on_user_logged_in
        from .subjects import ensure_subject

        # After the server's access log line (runserver's django.server logger reads the id then).
        request_finished.connect(logs.end_request, dispatch_uid="idp.logs.end_request")
        Application = get_application_model()
        post_delete.connect(
            accounts.record_client_deleted, sender=Application, dispatch_uid="idp.accounts.client"
        )
        User = get_user_model()
        pre_save.connect(
            accounts.remember_stored_account, sender=User, dispatch_uid="idp.accounts.before_save"
        )
        post_save.connect(accounts.apply_account_changes, sender=User, dispatch_uid="idp.accounts.after_save")
        post_delete.connect(accounts.record_person_deleted, sender=User, dispatch_uid="idp.accounts.deleted")
        setting_changed.connect(discovery.forget_documents, dispatch_uid="idp.discovery.forget_documents")
        setting_changed.connect(key_set.forget_built, dispatch_uid="idp.key_set.forget_built")
        user_logged_in.connect(on_user_logged_in, dispatch_uid="idp.sessions.record_authentication")
        user_logged_in.connect(ensure_subject, dispatch_uid="idp.subjects.ensure_subject")
        user_logged_in.connect(audit.on_user_logged_in, dispatch_uid="idp.audit.sign_in")
        user_logged_out.connect(browser_sessions.on_user_logged_out, dispatch_uid="idp.browser_sessions.out")
        user_logged_out.connect(forget_runs_at_sign_out, dispatch_uid="idp.explorer.runs.sign_out")
        user_login_failed.connect(audit.on_user_login_failed, dispatch_uid="idp.audit.sign_in_failed")
        if apps.is_installed("axes"):
            from axes.signals import user_locked_out

            from .backends import forgive_own_failures

            user_locked_out.connect(audit.on_user_locked_out, dispatch_uid="idp.audit.lockout")
            user_logged_in.connect(forgive_own_failures, dispatch_uid="idp.backends.forgive_own_failures")

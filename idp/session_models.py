"""The session index: one row per browser session here, and the clients that received tokens in it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from oauth2_provider.settings import oauth2_settings


class BrowserSession(models.Model):
    """A browser session of one person: its ``sid`` (in ID and logout tokens), where and how it began.

    The session itself lives in the session store (database or cache); this row outlives it as a record
    and lets a person, or an operator, end it from elsewhere.
    """

    sid = models.CharField(_("session id (sid)"), max_length=64, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="idp_browser_sessions"
    )
    session_key = models.CharField(_("session store key"), max_length=64, blank=True, editable=False)
    created = models.DateTimeField(_("signed in"), default=timezone.now)
    last_active = models.DateTimeField(_("last active"), default=timezone.now)
    user_agent = models.CharField(_("browser"), max_length=512, blank=True)
    ip_address = models.GenericIPAddressField(_("address"), null=True, blank=True)
    amr = models.CharField(_("sign-in methods"), max_length=64, blank=True)
    ended = models.DateTimeField(_("ended"), null=True, blank=True)
    clients = models.ManyToManyField(
        oauth2_settings.APPLICATION_MODEL, through="SessionClient", related_name="+", blank=True
    )

    class Meta:
        ordering = ["-last_active", "-pk"]
        indexes = [models.Index(fields=["user", "ended"], name="idp_browsersession_live")]

    def __str__(self) -> str:
        return f"Session {self.sid[:8]}… of {self.user_id}"


class SessionClient(models.Model):
    """A client that received a code (and so tokens) in a browser session: it gets the logout token."""

    session = models.ForeignKey(BrowserSession, on_delete=models.CASCADE, related_name="links")
    application = models.ForeignKey(
        oauth2_settings.APPLICATION_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created = models.DateTimeField(_("first token"), default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["session", "application"], name="idp_sessionclient_unique")
        ]

    def __str__(self) -> str:
        return f"{self.application_id} in session {self.session_id}"

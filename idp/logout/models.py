"""The logout outbox: one row per logout token owed to a client, kept until delivered or given up."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from oauth2_provider.settings import oauth2_settings


class LogoutDelivery(models.Model):
    """A logout token to send to ``application``'s back-channel logout URI for ``sub``/``sid``.

    The token is signed at each attempt (with the key active then); the URI is read from the client at
    each attempt, so a client whose URI was removed or changed is never sent to the old one.
    """

    application = models.ForeignKey(
        oauth2_settings.APPLICATION_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sub = models.CharField(_("subject"), max_length=255)
    sid = models.CharField(_("session id"), max_length=64, blank=True)
    created = models.DateTimeField(_("created"), default=timezone.now)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt = models.DateTimeField(_("next attempt"), default=timezone.now)
    delivered = models.DateTimeField(_("delivered"), null=True, blank=True)
    given_up = models.DateTimeField(_("given up"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=255, blank=True)

    class Meta:
        ordering = ["next_attempt", "pk"]
        indexes = [
            models.Index(
                fields=["next_attempt"],
                name="idp_logoutdelivery_due",
                condition=Q(delivered__isnull=True, given_up__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"Logout of {self.sid or self.sub} to {self.application_id}"

"""DOT's device grant, swapped to hold checksums only, its client, and how the approving person signed in."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from oauth2_provider.models import AbstractDeviceGrant
from oauth2_provider.settings import oauth2_settings


class DeviceGrant(AbstractDeviceGrant):
    """One device authorization request (RFC 8628 §3.1) and the person's answer to it.

    ``device_code`` and ``user_code`` hold the checksums of the codes (``idp.tokens.checksum``), never
    the codes: a copy of the database approves nothing and polls nothing. ``scope`` is what the client
    asked for, validated against its allowed scopes, shown to the person and, if approved, issued.
    ``interval`` grows by 5 seconds with each ``slow_down`` (§3.5); ``polled_at`` is the last poll.
    A used grant is kept until it expires, so a second use is ``invalid_grant``, not ``unknown``.
    """

    application = models.ForeignKey(
        oauth2_settings.APPLICATION_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    polled_at = models.DateTimeField(_("last polled"), null=True, blank=True)
    auth_time = models.DateTimeField(_("authenticated at"), null=True, blank=True)
    amr = models.CharField(_("authentication methods"), max_length=64, blank=True)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta(AbstractDeviceGrant.Meta):
        swappable = "OAUTH2_PROVIDER_DEVICE_GRANT_MODEL"
        indexes = [
            models.Index(fields=["user_code"], name="idp_devicegrant_user_code"),
            models.Index(fields=["expires"], name="idp_devicegrant_expires"),
        ]

    def __str__(self) -> str:
        return f"Device grant {self.pk} of {self.client_id}"

    def is_expired(self) -> bool:
        """Past its expiry. Unlike DOT's, reading it changes nothing in the database."""
        return timezone.now() >= self.expires

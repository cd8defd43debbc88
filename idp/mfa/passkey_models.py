"""The passkeys (WebAuthn credentials) people registered: one row per credential."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Passkey(models.Model):
    """A WebAuthn public-key credential of one person, as verified at registration.

    ``credential_id`` is the base64url credential id the browser returns (unique across people:
    a credential names its owner in a passwordless sign-in); ``public_key`` the COSE key.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="passkeys")
    credential_id = models.CharField(_("credential ID"), max_length=1400, unique=True)
    public_key = models.BinaryField(_("public key"))
    sign_count = models.PositiveBigIntegerField(_("signature counter"), default=0)
    name = models.CharField(_("name"), max_length=64)
    transports = models.JSONField(_("transports"), default=list, blank=True)
    aaguid = models.CharField(_("authenticator model (AAGUID)"), max_length=36, blank=True)
    backup_eligible = models.BooleanField(_("can be synced"), default=False)
    backed_up = models.BooleanField(_("synced"), default=False)
    user_verified = models.BooleanField(_("verified the person at registration"), default=False)
    created = models.DateTimeField(_("added"), default=timezone.now, editable=False)
    last_used = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("passkey")
        verbose_name_plural = _("passkeys")
        ordering = ("created", "pk")

    def __str__(self) -> str:
        return self.name

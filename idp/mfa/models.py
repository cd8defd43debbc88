"""The tables of second factors: authenticator apps (TOTP) and one-time recovery codes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TotpDevice(models.Model):
    """An authenticator app (RFC 6238). Counts as a factor once confirmed by one valid code.

    The shared secret is stored encrypted (``idp.mfa.totp.seal``) and never shown again after
    enrollment; ``last_used_step`` makes every code single-use within its time step.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="idp_totp_devices"
    )
    name = models.CharField(_("name"), max_length=64)
    sealed_secret = models.CharField(max_length=255, editable=False)
    confirmed = models.BooleanField(_("confirmed"), default=False)
    created = models.DateTimeField(_("added"), auto_now_add=True)
    last_used_step = models.BigIntegerField(null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("authenticator app")

    def __str__(self) -> str:
        return self.name


class RecoveryCode(models.Model):
    """A one-time recovery code, stored as its SHA-256 (the codes carry 80 random bits)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="idp_recovery_codes"
    )
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    used_at = models.DateTimeField(_("used"), null=True, blank=True)

    class Meta:
        verbose_name = _("recovery code")

    def __str__(self) -> str:
        return f"Recovery code of {self.user_id}"

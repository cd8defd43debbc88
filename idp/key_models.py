"""The signing key model: kid, algorithm, state and schedule, the private key encrypted at rest."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SigningKey(models.Model):
    """A key that signs ID tokens (``active``), will (``next``), or did (``retired``, ``revoked``).

    ``next``, ``active`` and ``retired`` keys are published in JWKS; a ``revoked`` key (replaced by an
    emergency rotation) is not, and its private key is erased: the row is kept for the record, and it
    hides a key of the same ``kid`` configured in the environment. The private key is stored
    encrypted with the key-encryption key (``idp.key_storage``); the public JWK is stored in clear.
    """

    class Algorithm(models.TextChoices):
        RS256 = "RS256", _("RS256 (RSA 2048, SHA-256)")
        ES256 = "ES256", _("ES256 (ECDSA P-256, SHA-256)")

    class State(models.TextChoices):
        NEXT = "next", _("Next: published, not signing yet")
        ACTIVE = "active", _("Active: signing")
        RETIRED = "retired", _("Retired: published until its tokens expire")
        REVOKED = "revoked", _("Revoked: withdrawn by an emergency rotation")

    kid = models.CharField(_("key id"), max_length=64, unique=True)
    alg = models.CharField(_("algorithm"), max_length=5, choices=Algorithm.choices)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, db_index=True)
    created = models.DateTimeField(_("created"), default=timezone.now)
    activates_at = models.DateTimeField(_("activates"), null=True, blank=True)
    retires_at = models.DateTimeField(_("retired"), null=True, blank=True)
    removes_at = models.DateTimeField(_("removed from JWKS"), null=True, blank=True)
    public_jwk = models.JSONField(_("public key (JWK)"))
    # "v1." + base64url(nonce + AES-256-GCM ciphertext of the PKCS#8 PEM); empty once revoked.
    encrypted_private_key = models.TextField(blank=True, editable=False)

    class Meta:
        ordering = ["-created"]
        verbose_name = _("signing key")

    def __str__(self) -> str:
        return f"{self.alg} {self.kid} ({self.state})"

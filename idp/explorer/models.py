"""The flow explorer's runs and their recorded messages; secrets, tokens and messages sealed at rest."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ExplorerRun(models.Model):
    """One flow run by the explorer for one browser: what was asked, what is left to do, its secrets.

    The browser is known by the SHA-256 of the explorer's own cookie (``browser``), never by the
    session. ``sealed`` holds the run's secrets (state, nonce, PKCE verifier, client secret, code,
    tokens) as JSON sealed with ``idp.sealing``; ``state_hash`` finds the run at the callback.
    """

    class Stage(models.TextChoices):
        AUTHORIZING = "authorizing", _("At the authorization server")
        DEVICE = "device", _("Waiting for the person at /device")
        STEPS = "steps", _("Back-channel steps")
        ENDED = "ended", _("Ended")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    browser = models.CharField(_("browser"), max_length=64, db_index=True)
    flow = models.CharField(_("flow"), max_length=32)
    client_id = models.CharField(_("client ID"), max_length=100)
    confidential = models.BooleanField(_("confidential client"), default=False)
    scope = models.TextField(_("scope"), blank=True)
    # prompt, max_age, acr_values, claims: what the authorization request carries (login_hint, which
    # names the person, is sealed with the secrets).
    options = models.JSONField(_("options"), default=dict, blank=True)
    breaks = models.JSONField(_("broken on purpose"), default=list, blank=True)
    stage = models.CharField(_("stage"), max_length=16, choices=Stage.choices, default=Stage.STEPS)
    # The steps still to run, in order: [{"step": ..., "broken": ...}, ...].
    pending = models.JSONField(_("pending steps"), default=list, blank=True)
    outcome = models.TextField(_("outcome"), blank=True)
    state_hash = models.CharField(_("state checksum"), max_length=64, blank=True, db_index=True)
    sealed = models.TextField(_("sealed secrets"), blank=True)
    last_seq = models.PositiveIntegerField(_("messages recorded"), default=0)
    created = models.DateTimeField(_("started"), default=timezone.now)
    expires = models.DateTimeField(_("expires"), db_index=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"Explorer run {self.pk} ({self.flow}, {self.client_id})"


class ExplorerMessage(models.Model):
    """One recorded HTTP exchange of a run (an ``idp.explorer.records.Exchange``).

    The request, the response and the notes are sealed JSON (``sealed``): they carry codes, tokens
    and secrets. What the diagram needs to list messages without them stays readable.
    """

    run = models.ForeignKey(ExplorerRun, on_delete=models.CASCADE, related_name="messages")
    seq = models.PositiveIntegerField(_("sequence number"))
    step = models.CharField(_("step"), max_length=32)
    source = models.CharField(_("from"), max_length=16)
    target = models.CharField(_("to"), max_length=16)
    status = models.PositiveSmallIntegerField(_("status"))
    broken = models.CharField(_("broken on purpose"), max_length=32, blank=True)
    sent_at = models.DateTimeField(_("sent at"))
    sealed = models.TextField(_("sealed request and response"))

    class Meta:
        ordering = ["run", "seq"]
        constraints = [models.UniqueConstraint(fields=["run", "seq"], name="idp_explorermessage_seq")]

    def __str__(self) -> str:
        return f"Message {self.seq} of {self.run_id}"

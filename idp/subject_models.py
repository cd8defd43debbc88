"""The tables behind ``sub``: a person's public subject identifier, and pairwise ones (OIDC Core §8)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def new_subject_value() -> str:
    """A fresh subject identifier: random (122 bits), so it says nothing about the person it names."""
    return str(uuid.uuid4())


class Subject(models.Model):
    """A person's public ``sub``: stable and opaque, never their primary key, username or email.

    Kept in a table of ``idp``'s own, so any user model works and the value survives a change of
    username, email or even of user model.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="idp_subject"
    )
    value = models.CharField(
        _("subject identifier"), max_length=64, unique=True, default=new_subject_value, editable=False
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)

    def __str__(self) -> str:
        return self.value


class PairwiseSubject(models.Model):
    """The ``sub`` that the clients of one sector identifier see (OIDC Core §8.1).

    Random like the public one, so two clients of different sectors cannot correlate a person, and
    stored, so a ``sub`` a client holds can be read back (``subjects.user_for_sub``).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sector = models.CharField(_("sector identifier"), max_length=255)
    value = models.CharField(
        _("subject identifier"), max_length=64, unique=True, default=new_subject_value, editable=False
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "sector"], name="idp_pairwise_subject_unique")]

    def __str__(self) -> str:
        return self.value

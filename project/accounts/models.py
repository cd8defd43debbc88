"""This site's user model: Django's, plus the standard OpenID Connect profile claims."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A person who signs in here, with the whole OpenID profile (read by ``project.claims``).

    Once ``idp.User``: the table keeps its name, so existing rows and every foreign key stay. Their
    ``sub`` now lives in idp's own table (``idp.Subject``), copied there unchanged.
    """

    email_verified = models.BooleanField(_("email verified"), default=False)
    middle_name = models.CharField(_("middle name"), max_length=150, blank=True)
    nickname = models.CharField(_("nickname"), max_length=150, blank=True)
    picture = models.URLField(_("picture URL"), blank=True)
    website = models.URLField(_("website"), blank=True)
    gender = models.CharField(_("gender"), max_length=32, blank=True)
    birthdate = models.DateField(_("birthdate"), null=True, blank=True)
    zoneinfo = models.CharField(_("time zone"), max_length=64, blank=True, help_text="e.g. Europe/Paris")
    locale = models.CharField(_("locale"), max_length=35, blank=True, help_text="e.g. en-US")
    phone_number = models.CharField(_("phone number"), max_length=32, blank=True, help_text="E.164")
    phone_number_verified = models.BooleanField(_("phone number verified"), default=False)
    street_address = models.TextField(_("street address"), blank=True)
    locality = models.CharField(_("city"), max_length=150, blank=True)
    region = models.CharField(_("region"), max_length=150, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=32, blank=True)
    country = models.CharField(_("country"), max_length=150, blank=True)
    updated_at = models.DateTimeField(_("profile updated"), auto_now=True)

    class Meta(AbstractUser.Meta):
        db_table = "idp_user"
        swappable = "AUTH_USER_MODEL"

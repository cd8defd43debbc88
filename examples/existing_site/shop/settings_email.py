"""The same site with an email-only custom user (``members.Member``: no username), set up before its
first migrate, as a custom user model must be."""

from shop.settings import *  # noqa: F403

INSTALLED_APPS = ["members", *INSTALLED_APPS]  # noqa: F405
AUTH_USER_MODEL = "members.Member"

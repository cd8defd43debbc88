"""This project's settings with Django's own ``auth.User``, and idp's default claims source."""

from project.settings import *  # noqa: F403

INSTALLED_APPS = [app for app in INSTALLED_APPS if app != "project.accounts"]  # noqa: F405
AUTH_USER_MODEL = "auth.User"
IDP = {**IDP, "CLAIMS_SOURCE": "idp.claims.ClaimsSource"}  # noqa: F405

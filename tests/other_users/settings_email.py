"""This project's settings with an email-only custom user (no username), and idp's default claims source."""

from tests.other_users.settings_auth import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "tests.other_users.email_user"]  # noqa: F405
AUTH_USER_MODEL = "email_user.EmailUser"

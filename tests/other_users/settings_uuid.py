"""This project's settings with a user model whose primary key is a UUID."""

from tests.other_users.settings_auth import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "tests.other_users.uuid_user"]  # noqa: F405
AUTH_USER_MODEL = "uuid_user.UuidUser"

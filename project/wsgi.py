"""WSGI entry point of the identity provider."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

application = get_wsgi_application()

from idp.checks import refuse_unsafe_start  # noqa: E402  (needs the app registry)

refuse_unsafe_start()

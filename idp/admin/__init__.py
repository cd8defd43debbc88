"""Operators' admin: people, clients by kind (secrets shown once), tokens, consents, keys, the audit trail.

One module per concern; importing this package registers them all. DOT registers its own models
with the classes named in ``OAUTH2_PROVIDER`` (``*_ADMIN_CLASS``, set in ``idp.conf``), found here.
"""

from django.contrib import admin

from ..install_checks import idp_models_in_place

# Without idp's models in place of DOT's, the admins cannot be built: manage.py check says what to
# set (idp.E011) instead of an error while importing this package.
if idp_models_in_place():
    from .audit import AuditEventAdmin
    from .clients import IdpApplicationAdmin
    from .common import HttpsUrlsMixin
    from .consents import ConsentAdmin
    from .keys import SigningKeyAdmin
    from .one_time_secret import ONE_TIME_SECRET, ONE_TIME_SECRET_SECONDS
    from .sessions import BrowserSessionAdmin, LogoutDeliveryAdmin
    from .sign_in import route_admin_sign_in
    from .tokens import IdpAccessTokenAdmin, IdpGrantAdmin, IdpIDTokenAdmin, IdpRefreshTokenAdmin
    from .users import IdpGroupAdmin, IdpUserAdmin, IdpUserAdminMixin

    route_admin_sign_in(admin.site)  # the admin's own form would skip the second factor

__all__ = [
    "ONE_TIME_SECRET",
    "ONE_TIME_SECRET_SECONDS",
    "AuditEventAdmin",
    "BrowserSessionAdmin",
    "ConsentAdmin",
    "HttpsUrlsMixin",
    "IdpAccessTokenAdmin",
    "IdpApplicationAdmin",
    "IdpGrantAdmin",
    "IdpGroupAdmin",
    "IdpIDTokenAdmin",
    "IdpRefreshTokenAdmin",
    "IdpUserAdmin",
    "IdpUserAdminMixin",
    "LogoutDeliveryAdmin",
    "SigningKeyAdmin",
    "route_admin_sign_in",
]

"""What DOT does not have: sub, consent, client metadata, audit events; DOT's models swapped."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from jwcrypto import jwk
from oauth2_provider.models import (
    AbstractAccessToken,
    AbstractApplication,
    AbstractGrant,
    AbstractIDToken,
    AbstractRefreshToken,
    ApplicationManager,
)
from oauth2_provider.settings import oauth2_settings

from .key_models import SigningKey
from .mfa.models import RecoveryCode, TotpDevice
from .mfa.passkey_models import Passkey
from .redirect_uris import allowed_schemes, is_registered
from .subject_models import PairwiseSubject, Subject

__all__ = [
    "PairwiseSubject",
    "Passkey",
    "RecoveryCode",
    "SigningKey",
    "Subject",
    "TotpDevice",
]  # defined apart, to keep this module short


class Application(AbstractApplication):
    """A relying party. Signs ID tokens with the provider's key; never with its own secret."""

    objects = ApplicationManager()

    class Kind(models.TextChoices):
        WEB = "web", _("Web application (confidential)")
        SPA = "spa", _("Single-page app (public)")
        NATIVE = "native", _("Native or CLI app (public)")
        SERVICE = "service", _("Service (client credentials)")
        DEVICE = "device", _("Input-constrained device or CLI (public, device code)")
        DEVICE_SECRET = "device-secret", _("Input-constrained device or CLI with a secret (device code)")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.WEB)
    # Overrides DOT's default of "" (no OIDC), which makes an `openid` request a 500.
    algorithm = models.CharField(
        _("ID token algorithm"),
        max_length=5,
        choices=[
            (AbstractApplication.RS256_ALGORITHM, _("RSA with SHA-2 256")),
            ("ES256", _("ECDSA P-256 with SHA-2 256")),
        ],
        default=AbstractApplication.RS256_ALGORITHM,
        help_text=_(
            "id_token_signed_response_alg: RS256 (every OpenID library), or ES256 (smaller, faster)."
        ),
    )
    subject_type = models.CharField(
        _("subject type"),
        max_length=8,
        choices=[("public", _("Public: one sub per person")), ("pairwise", _("Pairwise: one per sector"))],
        default="public",
        help_text=_("Pairwise: clients of different sectors cannot correlate a person (OIDC Core 8)."),
    )
    sector_identifier = models.CharField(
        _("sector identifier"),
        max_length=255,
        blank=True,
        help_text=_("Pairwise only: the host whose clients share a sub. Empty: the redirect URIs' host."),
    )
    is_resource_server = models.BooleanField(
        _("resource server"),
        default=False,
        help_text=_("May introspect tokens issued to any client, not only its own."),
    )
    allowed_scopes = models.TextField(
        _("allowed scopes"),
        blank=True,
        help_text=_(
            "Space-separated scopes this client may obtain. Empty: the standard OpenID scopes for "
            "clients that sign people in, none for services."
        ),
    )
    allow_nonce_instead_of_pkce = models.BooleanField(
        _("allow nonce instead of PKCE"),
        default=False,
        help_text=_(
            "Confidential OpenID clients only: accept an authorization request without PKCE when it "
            "carries a nonce (OAuth 2.1 §7.5.1), e.g. for the OpenID conformance suite. Off is safer."
        ),
    )
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("A disabled client cannot authorize or obtain tokens.")
    )
    is_verified = models.BooleanField(
        _("verified by the operator"),
        default=False,
        help_text=_("Shown on the consent page; unverified clients carry a warning."),
    )
    require_second_factor = models.BooleanField(
        _("require a second factor"),
        default=False,
        help_text=_(
            "People signing in to this client must give a second factor (those without one enroll first)."
        ),
    )
    logo_uri = models.URLField(_("logo URL"), blank=True)
    client_uri = models.URLField(_("home page"), blank=True)
    policy_uri = models.URLField(_("privacy policy"), blank=True)
    tos_uri = models.URLField(_("terms of service"), blank=True)
    access_token_lifetime = models.PositiveIntegerField(
        _("access token lifetime (seconds)"),
        null=True,
        blank=True,
        help_text=_("Between 300 (5 minutes) and 86400 (24 hours). Empty: the provider's default."),
    )
    backchannel_logout_uri = models.CharField(
        _("back-channel logout URI"),
        max_length=255,
        blank=True,
        help_text=_("Where logout tokens are POSTed when a session it got tokens in ends (https)."),
    )
    backchannel_logout_session_required = models.BooleanField(
        _("requires sid in logout tokens"), default=False
    )
    logout_ends_offline_access = models.BooleanField(
        _("logout revokes refresh tokens"),
        default=False,
        help_text=_("Refresh tokens issued in a session end with it; by default offline access survives."),
    )
    # The hash of the secret before the last rotation, still accepted until it expires (or never).
    previous_client_secret = models.CharField(max_length=255, blank=True, editable=False)
    previous_client_secret_expires = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta(AbstractApplication.Meta):
        swappable = "OAUTH2_PROVIDER_APPLICATION_MODEL"

    def clean(self) -> None:
        from .keys import signing_algorithms
        from .subjects import settle_sector

        try:
            super().clean()
        except ValidationError as exc:
            # DOT asks for OIDC_RSA_PRIVATE_KEY; an RS256 key kept in the database signs as well.
            errors = exc.update_error_dict({})
            if "RS256" in signing_algorithms():
                errors["algorithm"] = [e for e in errors.get("algorithm", []) if "OIDC_RSA" not in str(e)]
            if errors := {field: messages for field, messages in errors.items() if messages}:
                raise ValidationError(errors) from None
        if self.algorithm == "ES256" and "ES256" not in signing_algorithms():
            raise ValidationError(
                {"algorithm": _("No ES256 key is active: run `manage.py idp_keys rotate --alg ES256` first.")}
            )
        settle_sector(self)

    def is_usable(self, request) -> bool:
        """DOT asks this before any grant or bearer token of the client is honoured."""
        return self.is_active

    @property
    def jwk_key(self) -> jwk.JWK:
        from .keys import active_key

        return active_key(self.algorithm)

    def redirect_uri_allowed(self, uri: str) -> bool:
        """One of the registered redirect URIs, exactly (a native app's loopback one on any port)."""
        return self._registered(uri, self.redirect_uris) and super().redirect_uri_allowed(uri)

    def post_logout_redirect_uri_allowed(self, uri: str) -> bool:
        """One of the registered post-logout URIs, exactly (a native app's loopback one on any port)."""
        return self._registered(
            uri, self.post_logout_redirect_uris
        ) and super().post_logout_redirect_uri_allowed(uri)

    def _registered(self, uri: str, registered: str) -> bool:
        return is_registered(uri, registered.split(), native=self.kind == self.Kind.NATIVE)

    def get_allowed_schemes(self) -> list[str]:
        """https, plus the schemes of this client's own loopback or private-use redirect URIs."""
        return allowed_schemes((self.redirect_uris + " " + self.post_logout_redirect_uris).split())


class Grant(AbstractGrant):
    """An authorization code: when and how the approving session authenticated, and what it became.

    A used code is kept (until it expires and is cleaned up) so that a second use can be recognised
    and every token issued from it revoked (RFC 6749 §4.1.2, RFC 9700 §4.2.4).
    """

    auth_time = models.DateTimeField(_("authenticated at"), null=True, blank=True)
    amr = models.CharField(_("authentication methods"), max_length=64, blank=True)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    access_token = models.OneToOneField(
        "idp.AccessToken", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    token_family = models.UUIDField(_("refresh token family"), null=True, blank=True)
    sid = models.CharField(_("session id"), max_length=64, blank=True)

    class Meta(AbstractGrant.Meta):
        swappable = "OAUTH2_PROVIDER_GRANT_MODEL"
        # Expired-row cleanup (``manage.py idp_cleartokens``) selects by expiry, in batches.
        indexes = [models.Index(fields=["expires"], name="idp_grant_expires")]


class AccessToken(AbstractAccessToken):
    """DOT's access token (stored only as a checksum), with the OIDC ``claims`` request it serves."""

    claims = models.JSONField(_("claims request"), default=dict, blank=True)

    class Meta(AbstractAccessToken.Meta):
        swappable = "OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL"
        indexes = [models.Index(fields=["expires"], name="idp_accesstoken_expires")]


class RefreshToken(AbstractRefreshToken):
    """DOT's refresh token, carrying the original authentication time through rotations."""

    auth_time = models.DateTimeField(_("authenticated at"), null=True, blank=True)
    amr = models.CharField(_("authentication methods"), max_length=64, blank=True)
    claims = models.JSONField(_("claims request"), default=dict, blank=True)
    sid = models.CharField(_("session id"), max_length=64, blank=True)

    class Meta(AbstractRefreshToken.Meta):
        swappable = "OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL"
        indexes = [
            *AbstractRefreshToken.Meta.indexes,
            models.Index(fields=["revoked"], name="idp_refreshtoken_revoked"),
        ]


class IDToken(AbstractIDToken):
    """DOT's record of an issued ID token (by ``jti``)."""

    class Meta(AbstractIDToken.Meta):
        swappable = "OAUTH2_PROVIDER_ID_TOKEN_MODEL"
        indexes = [models.Index(fields=["expires"], name="idp_idtoken_expires")]


class Consent(models.Model):
    """What a person allowed a client: scopes and individually requested claims, and when.

    Kept apart from tokens, so that revoking tokens and revoking consent are separate, visible acts.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consents")
    application = models.ForeignKey(
        oauth2_settings.APPLICATION_MODEL, on_delete=models.CASCADE, related_name="consents"
    )
    scopes = models.TextField(_("scopes"), help_text=_("Space-separated scopes the person allowed."))
    claims = models.TextField(_("claims"), blank=True, help_text=_("Individually allowed claims."))
    created = models.DateTimeField(_("first granted"), auto_now_add=True)
    updated = models.DateTimeField(_("last changed"), auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "application"], name="idp_consent_unique")]

    def __str__(self) -> str:
        return f"Consent of {self.user_id} to {self.application_id}"


class AuditEvent(models.Model):
    """One security-relevant event. Append-only: never changed, removed only by the retention cleanup.

    Who and which client are kept both as links and as text, so an event outlives a deleted account.
    """

    class Event(models.TextChoices):
        SIGN_IN = "sign_in", _("Sign-in succeeded")
        SIGN_IN_FAILED = "sign_in_failed", _("Sign-in failed")
        LOCKOUT = "lockout", _("Locked out after repeated failed sign-ins")
        CONSENT_GRANTED = "consent_granted", _("Consent granted")
        CONSENT_REVOKED = "consent_revoked", _("Consent revoked")
        TOKEN_ISSUED = "token_issued", _("Tokens issued")
        TOKEN_REVOKED = "token_revoked", _("Token revoked")
        REFRESH_TOKEN_REUSE = "refresh_token_reuse", _("Refresh token reuse detected")
        CODE_REUSE = "code_reuse", _("Authorization code reuse detected")
        CLIENT_CREATED = "client_created", _("Client created")
        CLIENT_CHANGED = "client_changed", _("Client changed")
        CLIENT_SECRET_ROTATED = "client_secret_rotated", _("Client secret rotated")
        CLIENT_DISABLED = "client_disabled", _("Client disabled")
        CLIENT_ENABLED = "client_enabled", _("Client enabled")
        KEY_GENERATED = "key_generated", _("Signing key generated")
        KEY_SCHEDULED = "key_scheduled", _("Signing key created, published ahead of use")
        KEY_ACTIVATED = "key_activated", _("Signing key activated")
        KEY_RETIRED = "key_retired", _("Signing key retired")
        KEY_REMOVED = "key_removed", _("Retired signing key removed")
        KEY_REVOKED = "key_revoked", _("Signing key revoked (emergency rotation)")
        CLIENT_DELETED = "client_deleted", _("Client deleted")
        USER_DEACTIVATED = "user_deactivated", _("Account deactivated (all its tokens revoked)")
        PASSWORD_CHANGED = "password_changed", _("Password changed (refresh tokens revoked)")
        USER_PRIVILEGES_CHANGED = "user_privileges_changed", _("Account privileges changed")
        GROUP_PERMISSIONS_CHANGED = "group_permissions_changed", _("Group permissions changed")
        USER_DELETED = "user_deleted", _("Account deleted")
        DEVICE_APPROVED = "device_approved", _("Device sign-in approved")
        DEVICE_DENIED = "device_denied", _("Device sign-in denied")
        STEP_UP = "step_up", _("Second factor given (step-up)")
        FACTOR_ADDED = "factor_added", _("Second factor added")
        FACTOR_RENAMED = "factor_renamed", _("Second factor renamed")
        FACTOR_REMOVED = "factor_removed", _("Second factor removed")
        RECOVERY_CODES_CREATED = "recovery_codes_created", _("New recovery codes created")
        FACTORS_RESET = "factors_reset", _("Second factors reset by an operator")
        PASSKEY_REFUSED = "passkey_refused", _("Passkey refused")
        SESSION_ENDED = "session_ended", _("Browser session ended")
        LOGOUT_DELIVERED = "logout_delivered", _("Back-channel logout delivered")
        LOGOUT_ATTEMPT_FAILED = "logout_attempt_failed", _("Back-channel logout attempt failed")
        LOGOUT_GAVE_UP = "logout_gave_up", _("Back-channel logout given up")

    time = models.DateTimeField(_("time"), default=timezone.now, db_index=True, editable=False)
    event = models.CharField(_("event"), max_length=32, choices=Event.choices, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_name = models.CharField(_("actor"), max_length=150, blank=True)
    client = models.ForeignKey(
        oauth2_settings.APPLICATION_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    client_identifier = models.CharField(_("client ID"), max_length=255, blank=True, db_index=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        ordering = ["-time", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_event_display()} at {self.time:%Y-%m-%d %H:%M:%S}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ValueError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Audit events are append-only; the retention cleanup removes old ones.")


from .device.models import DeviceGrant  # noqa: E402, F401  (the device grant lives with its package)
from .explorer.models import ExplorerMessage, ExplorerRun  # noqa: E402, F401
from .logout.models import LogoutDelivery  # noqa: E402, F401
from .session_models import BrowserSession, SessionClient  # noqa: E402, F401

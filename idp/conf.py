"""Settings of the idp app: the ``IDP`` dict of what DOT lacks, and the builder of DOT's ``OAUTH2_PROVIDER``.

One source per setting. DOT's own knobs (the issuer, the signing keys, every lifetime, the cleanup
batches) live in ``OAUTH2_PROVIDER`` and are read through DOT's ``oauth2_settings``, which DOT reloads
on ``setting_changed``; ``IDP`` holds only what DOT has no setting for. Both are read on every access,
so ``override_settings`` just works.
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # The development-only demo users and clients (refused on a non-loopback issuer): a JSON file's
    # path. None: the site has no demo data.
    "DEMO_DATA_FILE": None,
    # Bounds of a client's own access token lifetime, in seconds (5 minutes to 24 hours).
    "CLIENT_ACCESS_TOKEN_LIFETIME_BOUNDS": (300, 86400),
    # The longest an operator may keep a rotated client secret valid, in seconds (30 days).
    "MAX_SECRET_GRACE_PERIOD": 30 * 24 * 3600,
    # Audit events older than this many days are removed by `manage.py idp_audit_cleanup`.
    "AUDIT_RETENTION_DAYS": 365,
    # Resource API (idp.api) request rates, in DRF's "number/period" form: all the tokens of one
    # client together, and all the requests made for one person. None: unlimited.
    "API_THROTTLE_RATES": {"client": "1200/minute", "user": "300/minute"},
    # Password-reset emails, in the same "number/period" form: at most this many requested for one
    # email address, and from one client address (see TRUSTED_PROXIES). A request over either limit
    # gets the same "check your mailbox" page and sends nothing. None: unlimited.
    "PASSWORD_RESET_RATES": {"email": "3/hour", "address": "10/hour"},
    # The public client pre-filled in the API docs' "Authorize" dialog (authorization code + PKCE).
    "API_DOCS_CLIENT_ID": "demo-spa",
    # How many reverse proxies in front of the site append to X-Forwarded-For: the client address
    # used for brute-force lockout and in audit events is the entry that many places from the end.
    # 0: REMOTE_ADDR.
    "TRUSTED_PROXIES": 0,
    # Where a person's standard claims come from: a dotted path to a subclass of
    # idp.claims.ClaimsSource. The default reads a plain user model (names, username, email) and
    # never says an email address is verified.
    "CLAIMS_SOURCE": "idp.claims.ClaimsSource",
    # Who must give a second factor at every sign-in to a client: None (only where a client requires
    # it, or asks with acr_values), "staff" (staff members), or "all". A person without one is led to
    # add one first (/account/security).
    "REQUIRE_SECOND_FACTOR": None,
    # --- The device authorization grant (RFC 8628) ------------------------------------------------
    # How long a device code and its user code live, in seconds (RFC 8628 §3.2 expires_in).
    "DEVICE_CODE_LIFETIME": 600,
    # The least number of seconds a device waits between polls (§3.2 interval); slow_down adds 5.
    "DEVICE_POLL_INTERVAL": 5,
    # Wrong user codes typed on /device (RFC 8628 §5.1), in the "number/period" form: per person, and
    # per client address (see TRUSTED_PROXIES). Over either, no code is checked until the window ends.
    "DEVICE_USER_CODE_RATES": {"person": "10/hour", "address": "30/hour"},
    # Device authorization requests (POST /device-authorization), each a stored grant: per client_id
    # named and per client address. Over either: 429 with Retry-After, and nothing stored.
    "DEVICE_AUTHORIZATION_RATES": {"client": "120/minute", "address": "30/minute"},
    # --- Sessions and back-channel logout (OpenID Connect Back-Channel Logout 1.0) ------------------
    # A browser session's "last active" time is written at most this often, in seconds.
    "SESSION_ACTIVITY_INTERVAL": 300,
    # `manage.py idp_cleartokens` deletes the records of sessions ended (or idle past the session
    # lifetime) and of logout tokens delivered or given up more than this many days ago.
    "SESSION_RECORD_RETENTION_DAYS": 30,
    # Logout tokens may be POSTed to private, loopback or link-local addresses (every address the
    # host resolves to is checked). None: allowed when the issuer itself is on a loopback address
    # (development), refused otherwise.
    "BACKCHANNEL_LOGOUT_ALLOW_PRIVATE": None,
    # Seconds to connect to, and to wait for, a relying party's back-channel logout URI.
    "BACKCHANNEL_LOGOUT_TIMEOUT": 5,
    # Attempts per logout token before it is given up (audited); the waits between them double from
    # BACKCHANNEL_LOGOUT_RETRY_DELAY seconds, up to an hour: 8 attempts span about 20 minutes.
    "BACKCHANNEL_LOGOUT_MAX_ATTEMPTS": 8,
    "BACKCHANNEL_LOGOUT_RETRY_DELAY": 10,
    # First attempts are made at once, in a thread beside the response that ended the session (the
    # logout token usually reaches the relying party before the person's browser does); the worker
    # (`manage.py idp_deliver_logouts`) makes every retry. False: the worker makes every attempt.
    "BACKCHANNEL_LOGOUT_DELIVER_AT_ONCE": True,
    # --- The pages people see (sign-in, consent, account) ----------------------------------------
    # The name people know this sign-in service by: page titles, header, emails.
    "SITE_NAME": "Django IdP",
    # The site logo shown beside the name: a path under STATIC_URL ("brand/logo.svg") or an absolute
    # https URL. Empty: the name alone. For a different layout altogether, override "idp/base.html".
    "SITE_LOGO": "",
    # Brand colour of buttons, links and focus rings, as #rrggbb. It must keep a 4.5:1 contrast with
    # white (WCAG AA), which the system check idp.W001 verifies.
    "ACCENT_COLOR": "#0b57d0",
    # --- Signing keys kept in the database (idp.key_rotation, `manage.py idp_keys`) ---------------
    # The key-encryption key: 32 random bytes, base64url (`manage.py idp_keys kek`). Private signing
    # keys in the database are encrypted under it (AES-256-GCM). None: keys come from
    # OAUTH2_PROVIDER['OIDC_RSA_PRIVATE_KEY'] alone.
    "KEY_ENCRYPTION_KEY": None,
    # Seconds added to OIDC_JWKS_MAX_AGE_SECONDS before a rotated key signs (every relying party has
    # fetched it by then), and to ID_TOKEN_EXPIRE_SECONDS before a retired key leaves JWKS.
    "KEY_ROTATION_MARGIN": 300,
    # --- The flow explorer (/developers/flows, idp.explorer) -------------------------------------
    # Who may run real flows against this provider as its built-in relying party: None (open to
    # anyone while DEBUG is on, to signed-in staff otherwise), "staff" (signed-in staff members),
    # "everyone", or False (off: its pages answer 404).
    "FLOW_EXPLORER": None,
    # --- Performance ------------------------------------------------------------------------------
    # The hot path's reads and inserts (tokens, codes, clients, consent, the session's person, audit
    # events) run as SQL compiled once per process (idp.db). Off: the same querysets through the ORM,
    # and plain save(), at 3.2 -> 5.9 ms of CPU per sign-in flow on SQLite (bench.cpu_profile): for
    # debugging, or a database the compiled statements do not suit.
    "COMPILED_QUERIES": True,
    # The Content-Security-Policy header of every response (idp.middleware.SecurityHeadersMiddleware).
    # Scripts and styles from this site only, nothing inline; client logos may come from any https URL;
    # no framing. A response that already has the header keeps its own. form-action stays open on
    # purpose: the consent and logout forms end in a redirect to the client, which it would block.
    "CONTENT_SECURITY_POLICY": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    ),
}


# ``IDP`` keys of earlier versions that DOT's settings hold now: a value set here would be ignored, so
# the system check idp.E008 names the ``OAUTH2_PROVIDER`` key to set instead.
MOVED_TO_OAUTH2_PROVIDER: dict[str, str] = {
    "ISSUER": "OIDC_ISS_ENDPOINT",
    "SIGNING_KEY": "OIDC_RSA_PRIVATE_KEY",
    "RETIRED_SIGNING_KEYS": "OIDC_RSA_PRIVATE_KEYS_INACTIVE",
    "AUTHORIZATION_CODE_LIFETIME": "AUTHORIZATION_CODE_EXPIRE_SECONDS",
    "ACCESS_TOKEN_LIFETIME": "ACCESS_TOKEN_EXPIRE_SECONDS",
    "ID_TOKEN_LIFETIME": "ID_TOKEN_EXPIRE_SECONDS",
    "REFRESH_TOKEN_IDLE_LIFETIME": "REFRESH_TOKEN_EXPIRE_SECONDS",
    "METADATA_MAX_AGE": "OIDC_JWKS_MAX_AGE_SECONDS",
    "CLEANUP_BATCH_SIZE": "CLEAR_EXPIRED_TOKENS_BATCH_SIZE",
    "CLEANUP_BATCH_PAUSE": "CLEAR_EXPIRED_TOKENS_BATCH_INTERVAL",
}


def _oauth2_settings():
    # Imported when first read: DOT's settings module reads Django's settings as it is imported, and
    # project/settings.py imports this module.
    from oauth2_provider.settings import oauth2_settings

    return oauth2_settings


class IdpSettings:
    """Reads ``settings.IDP`` on every access, so ``override_settings`` just works."""

    def __getattr__(self, name: str) -> Any:
        if name in MOVED_TO_OAUTH2_PROVIDER:
            raise AttributeError(
                f"{name!r} is DOT's setting: read oauth2_settings.{MOVED_TO_OAUTH2_PROVIDER[name]}"
            )
        if name not in DEFAULTS:
            raise AttributeError(f"Unknown IDP setting: {name!r}")
        configured = getattr(settings, "IDP", {})
        if not isinstance(configured, dict):
            configured = {}  # the defaults, while the system check idp.E015 asks for a dict
        return configured.get(name, DEFAULTS[name])

    @property
    def ISSUER(self) -> str:
        """The issuer identifier, ``OAUTH2_PROVIDER['OIDC_ISS_ENDPOINT']``: the site origin, no path, no
        trailing slash. ``iss`` in every ID token, the discovery documents and every authorization
        response equals it to the byte (DOT's own ``iss`` on authorization responses reads it too)."""
        return _oauth2_settings().OIDC_ISS_ENDPOINT

    @property
    def issuer_origin(self) -> str:
        parts = urlsplit(self.ISSUER)
        return f"{parts.scheme}://{parts.netloc}"


idp_settings = IdpSettings()


def is_loopback_url(url: str) -> bool:
    """True for URLs whose host is a loopback address (127.0.0.0/8, ::1) or ``localhost``."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# What the endpoints accept, under DOT's names. Response types and client authentication methods are
# fixed by the code, and idp.discovery advertises these constants; the grant types are the default of
# OAUTH2_GRANT_TYPES_SUPPORTED, which the token endpoint enforces and discovery reads.
RESPONSE_TYPES = ("code",)
GRANT_TYPES = (
    "authorization_code",
    "refresh_token",
    "client_credentials",
    "urn:ietf:params:oauth:grant-type:device_code",
)
TOKEN_ENDPOINT_AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")


def oauth2_provider_settings(**overrides: Any) -> dict[str, Any]:
    """DOT's ``OAUTH2_PROVIDER`` dict: idp's classes and OAuth 2.1 / RFC 9700 defaults, then ``overrides``.

    A project passes what it decides itself, under DOT's names, e.g.
    ``oauth2_provider_settings(OIDC_ISS_ENDPOINT="https://id.example.com", OIDC_RSA_PRIVATE_KEY=pem)``.
    """
    return {
        "OAUTH2_VALIDATOR_CLASS": "idp.oauth2_validators.IdpOAuth2Validator",
        "OIDC_SERVER_CLASS": "idp.server.IdpServer",
        "OAUTH2_BACKEND_CLASS": "idp.oauth2_backends.IdpOAuthLibCore",
        "SCOPES_BACKEND_CLASS": "idp.scopes.IdpScopes",
        "APPLICATION_ADMIN_CLASS": "idp.admin.IdpApplicationAdmin",
        "ACCESS_TOKEN_ADMIN_CLASS": "idp.admin.IdpAccessTokenAdmin",
        "GRANT_ADMIN_CLASS": "idp.admin.IdpGrantAdmin",
        "ID_TOKEN_ADMIN_CLASS": "idp.admin.IdpIDTokenAdmin",
        "REFRESH_TOKEN_ADMIN_CLASS": "idp.admin.IdpRefreshTokenAdmin",
        "CLIENT_SECRET_HASHER": "idp_client_secret",
        "OIDC_ENABLED": True,
        # The issuer identifier (read as ``idp_settings.ISSUER``): a bare origin, checked by idp.E001.
        # Empty (DOT's default: taken from each request's host) fails that check: set it.
        "OIDC_ISS_ENDPOINT": "",
        # PEM text of the active RSA private key that signs ID tokens (RS256), and the retired keys still
        # published in JWKS so older tokens verify (never used to sign). Read by idp.keys.
        "OIDC_RSA_PRIVATE_KEY": "",
        "OIDC_RSA_PRIVATE_KEYS_INACTIVE": [],
        # How long relying parties may cache the JWKS and the discovery documents, in seconds.
        "OIDC_JWKS_MAX_AGE_SECONDS": 3600,
        "OIDC_RESPONSE_TYPES_SUPPORTED": list(RESPONSE_TYPES),
        "OIDC_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED": list(TOKEN_ENDPOINT_AUTH_METHODS),
        "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
        "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,
        "OIDC_RP_INITIATED_LOGOUT_STRICT_REDIRECT_URIS": True,
        # Logging out ends this browser's session; it does not destroy the user's tokens elsewhere.
        "OIDC_RP_INITIATED_LOGOUT_DELETE_TOKENS": False,
        # Lifetimes, in seconds. A client may have its own access token lifetime, within
        # IDP["CLIENT_ACCESS_TOKEN_LIFETIME_BOUNDS"].
        "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
        "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
        "ID_TOKEN_EXPIRE_SECONDS": 3600,
        # A refresh token dies this long after its last access token expired (idle lifetime).
        "REFRESH_TOKEN_EXPIRE_SECONDS": 30 * 24 * 3600,
        # `manage.py idp_cleartokens` removes expired codes, tokens and ID tokens this many rows per
        # statement (one short transaction each), pausing this many seconds between batches so that
        # token requests never wait long for a lock.
        "CLEAR_EXPIRED_TOKENS_BATCH_SIZE": 1000,
        "CLEAR_EXPIRED_TOKENS_BATCH_INTERVAL": 0.05,
        "ACCESS_TOKEN_GENERATOR": "idp.server.random_token",
        "REFRESH_TOKEN_GENERATOR": "idp.server.random_token",
        "ROTATE_REFRESH_TOKEN": True,
        "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,
        "REFRESH_TOKEN_REUSE_PROTECTION": True,
        "PKCE_REQUIRED": True,
        # DOT's default, and read by nothing here: the authorization view ignores the request's
        # approval_prompt and never reads this setting; consent is idp.consent.decide's alone.
        "REQUEST_APPROVAL_PROMPT": "force",
        # https only; a client's own registered loopback or private-use redirect URIs are allowed
        # per client by Application.get_allowed_schemes().
        "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
        "ALLOWED_SCHEMES": ["https", "http"],
        "ALLOW_URI_WILDCARDS": False,
        # Every RFC 9700 gate DOT has, on. PKCE_METHOD gates code saving that idp's validator replaces
        # (S256 is enforced there); it is set so DOT's deploy check (oauth2_provider.W003) is quiet.
        "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
        "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
        "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
        "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
        "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
        "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
        "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
        "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": True,
        "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
        "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
        # The token endpoint answers any other grant type unsupported_grant_type (idp.views.tokens).
        "OAUTH2_GRANT_TYPES_SUPPORTED": list(GRANT_TYPES),
        "OAUTH2_RESPONSE_TYPES_SUPPORTED": list(RESPONSE_TYPES),
        "OAUTH2_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED": list(TOKEN_ENDPOINT_AUTH_METHODS),
        **overrides,
    }

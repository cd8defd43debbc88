"""The kinds of client, and what each kind decides: grant, client type, secret, what it registers."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError


@dataclass(frozen=True)
class KindSetup:
    """What a kind of client is: its grant, whether it holds a secret, and what it registers."""

    grant_type: str
    client_type: str
    auth_method: str
    redirects: bool
    origins: bool

    @property
    def has_secret(self) -> bool:
        return self.client_type == "confidential"

    @property
    def signs_in_people(self) -> bool:
        """A person approves it on a consent page (every grant but client credentials)."""
        return self.grant_type != CREDENTIALS

    @property
    def device(self) -> bool:
        """It uses the device authorization grant (RFC 8628): a code typed on /device, no redirect."""
        return self.grant_type == DEVICE


CODE, CREDENTIALS, SECRET_BASIC = "authorization-code", "client-credentials", "client_secret_basic"
DEVICE = "urn:ietf:params:oauth:grant-type:device_code"
KINDS: dict[str, KindSetup] = {
    "web": KindSetup(CODE, "confidential", SECRET_BASIC, redirects=True, origins=False),
    "spa": KindSetup(CODE, "public", "none", redirects=True, origins=True),
    "native": KindSetup(CODE, "public", "none", redirects=True, origins=False),
    "service": KindSetup(CREDENTIALS, "confidential", SECRET_BASIC, redirects=False, origins=False),
    # Input-constrained devices and CLIs: public by default; "device-secret" for one that can keep a secret.
    "device": KindSetup(DEVICE, "public", "none", redirects=False, origins=False),
    "device-secret": KindSetup(DEVICE, "confidential", SECRET_BASIC, redirects=False, origins=False),
}


def kind_setup(kind: str) -> KindSetup:
    try:
        return KINDS[kind]
    except KeyError:
        raise ValidationError(f"Unknown kind {kind!r}: choose one of {', '.join(KINDS)}.") from None

"""Authenticator apps (RFC 6238, pyotp): secrets sealed at rest, codes single-use, ±1 step of skew."""

from __future__ import annotations

import hmac
import time

import pyotp
import segno
from django.db.models import Q
from django.utils import timezone

from .. import sealing
from ..conf import idp_settings
from .models import TotpDevice

STEP = 30  # seconds per code (RFC 6238's default, what every app assumes)
DIGITS = 6
SKEW = 1  # steps accepted either side of now
PURPOSE = "idp.mfa.totp"  # the sealing key's purpose: secrets sealed before idp.sealing still open


def seal(secret: str) -> str:
    """A TOTP secret encrypted with a key derived from ``SECRET_KEY`` (fallbacks still open it)."""
    return sealing.seal(secret, purpose=PURPOSE)


def unseal(sealed: str) -> str | None:
    """The secret of ``seal``, or None when no current or fallback key opens it."""
    return sealing.unseal(sealed, purpose=PURPOSE)


def start_enrollment(user, *, name: str) -> tuple[TotpDevice, str]:
    """A new, unconfirmed authenticator app for ``user`` and its secret (base32), to show once."""
    secret = pyotp.random_base32(32)  # 160 bits, RFC 4226's recommendation
    device = TotpDevice.objects.create(user=user, name=name[:64], sealed_secret=seal(secret))
    return device, secret


def provisioning_uri(user, *, secret: str) -> str:
    """The ``otpauth://`` URI an app scans."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP).provisioning_uri(
        name=user.get_username(), issuer_name=idp_settings.SITE_NAME
    )


def qr_svg_data_uri(uri: str) -> str:
    """The QR code of ``uri`` as an SVG ``data:`` URI (an <img>: the CSP allows data: images only)."""
    return segno.make(uri, error="m").svg_data_uri(scale=4, border=2)


def _matching_step(secret: str, code: str, *, now: float) -> int | None:
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP)
    current = int(now // STEP)
    for step in range(current - SKEW, current + SKEW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _normalised(code: str) -> str:
    return "".join(code.split()) if isinstance(code, str) else ""


def verify_code(device: TotpDevice, code: str, *, now: float | None = None) -> bool:
    """Whether ``code`` is valid for ``device`` now (±1 step) and not used before; if so it is used up.

    The step is claimed with one conditional UPDATE, so two requests racing with the same code
    cannot both succeed.
    """
    code = _normalised(code)
    if len(code) != DIGITS or not (code.isascii() and code.isdigit()):  # full-width digits are isdigit()
        return False
    secret = unseal(device.sealed_secret)
    if secret is None:
        return False
    step = _matching_step(secret, code, now=time.time() if now is None else now)
    if step is None:
        return False
    claimed = (
        TotpDevice.objects.filter(pk=device.pk)
        .filter(Q(last_used_step__isnull=True) | Q(last_used_step__lt=step))
        .update(last_used_step=step, last_used_at=timezone.now())
    )
    return claimed == 1


def confirm_enrollment(device: TotpDevice, code: str, *, now: float | None = None) -> bool:
    """Confirm a new app with one valid code: only then does it count as a factor."""
    if device.confirmed or not verify_code(device, code, now=now):
        return False
    TotpDevice.objects.filter(pk=device.pk).update(confirmed=True)
    device.confirmed = True
    return True


def verify_any(user, code: str, *, now: float | None = None) -> TotpDevice | None:
    """The confirmed app of ``user`` that ``code`` is valid for (and now used), else None."""
    for device in TotpDevice.objects.filter(user=user, confirmed=True):
        if verify_code(device, code, now=now):
            return device
    return None

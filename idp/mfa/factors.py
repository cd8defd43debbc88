"""The kinds of second factor a person can hold: one registry, so each kind is added in one line."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class FactorKind:
    """One kind of factor: whether a person holds one, and how to remove all of theirs.

    ``is_factor`` is False for a backup (recovery codes): it does not make a person "have MFA" on
    its own, but is removed with the rest.
    """

    name: str
    held_by: Callable[[object], bool]
    remove_all: Callable[[object], int]
    is_factor: bool = True


def _totp_held(user) -> bool:
    from .models import TotpDevice

    return TotpDevice.objects.filter(user=user, confirmed=True).exists()


def _totp_remove(user) -> int:
    from .models import TotpDevice

    return TotpDevice.objects.filter(user=user).delete()[0]


def _recovery_held(user) -> bool:
    from .models import RecoveryCode

    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).exists()


def _recovery_remove(user) -> int:
    from .models import RecoveryCode

    return RecoveryCode.objects.filter(user=user).delete()[0]


def _passkey_held(user) -> bool:
    from .passkey_models import Passkey

    return Passkey.objects.filter(user=user).exists()


def _passkey_remove(user) -> int:
    from .passkey_models import Passkey

    return Passkey.objects.filter(user=user).delete()[0]


TOTP = FactorKind("totp", held_by=_totp_held, remove_all=_totp_remove)
PASSKEYS = FactorKind("passkey", held_by=_passkey_held, remove_all=_passkey_remove)
RECOVERY_CODES = FactorKind(
    "recovery_codes", held_by=_recovery_held, remove_all=_recovery_remove, is_factor=False
)

# Every kind, strongest-last not implied. A new kind (passkeys) adds itself here, in one line.
FACTOR_KINDS: list[FactorKind] = [TOTP, PASSKEYS, RECOVERY_CODES]


def has_second_factor(user) -> bool:
    """Whether ``user`` holds at least one second factor (a backup alone does not count)."""
    if user is None or not getattr(user, "pk", None):
        return False
    return any(kind.held_by(user) for kind in FACTOR_KINDS if kind.is_factor)


def factor_count(user) -> int:
    """How many kinds of factor ``user`` holds (for "is this the last one?")."""
    return sum(1 for kind in FACTOR_KINDS if kind.is_factor and kind.held_by(user))


def remove_all_factors(user) -> dict[str, int]:
    """Remove every factor and backup of ``user``; how many of each kind went."""
    return {kind.name: kind.remove_all(user) for kind in FACTOR_KINDS}

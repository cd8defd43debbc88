"""Signing key rotation: next -> active -> retired -> gone on a frozen clock; emergency; what RPs see."""

import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from jwcrypto import jwk, jws, jwt

from idp.audit import Event
from idp.key_rotation import (
    advance_keys,
    emergency_rotate,
    prepublication_period,
    retention_period,
    rotate_key,
)
from idp.key_storage import generate_kek
from idp.keys import active_key, sign_jwt
from idp.models import AuditEvent, SigningKey
from tests.conftest import authorize, exchange, verify_id_token

pytestmark = pytest.mark.django_db

LOGGED_OUT = "https://rp.example.com/logged-out"


def jwks_kids(client) -> list[str]:
    return [key["kid"] for key in client.get("/.well-known/jwks.json").json()["keys"]]


def kid_of_token(token: str) -> str:
    parsed = jws.JWS()
    parsed.deserialize(token)
    return parsed.jose_header["kid"]


def events(*kinds) -> list[tuple[str, str]]:
    return list(
        AuditEvent.objects.filter(event__in=kinds).order_by("pk").values_list("event", "details__kid")
    )


def test_periods_follow_the_jwks_cache_lifetime_and_the_id_token_lifetime(settings, client):
    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "OIDC_JWKS_MAX_AGE_SECONDS": 600,
        "ID_TOKEN_EXPIRE_SECONDS": 900,
    }
    settings.IDP = {**settings.IDP, "KEY_ROTATION_MARGIN": 60}
    assert prepublication_period() == timedelta(seconds=660)
    assert retention_period() == timedelta(seconds=960)
    # What JWKS tells relying parties they may cache it for, the pre-publication period is built on.
    assert client.get("/.well-known/jwks.json")["Cache-Control"] == "public, max-age=600"


def test_next_active_retired_gone_on_a_frozen_clock(client):
    t0 = timezone.now()
    configured = active_key().thumbprint()  # the environment's key signs until a stored one is active
    first = rotate_key(now=t0)
    assert first.state == "next" and first.activates_at == t0 + prepublication_period()
    assert jwks_kids(client) == [configured, first.kid]  # published at once, not signing yet
    assert kid_of_token(sign_jwt({"sub": "1"})) == configured

    assert advance_keys(now=first.activates_at - timedelta(seconds=1)) == []
    changes = advance_keys(now=first.activates_at)
    assert [(c.kid, c.change) for c in changes] == [(first.kid, "activated")]
    assert kid_of_token(sign_jwt({"sub": "1"})) == first.kid
    assert jwks_kids(client)[0] == first.kid

    t1 = first.activates_at + timedelta(days=1)
    second = rotate_key(now=t1)
    first.refresh_from_db()
    assert first.retires_at == second.activates_at  # scheduled, shown to operators
    changes = advance_keys(now=second.activates_at)
    assert {(c.kid, c.change) for c in changes} == {(first.kid, "retired"), (second.kid, "activated")}
    first.refresh_from_db()
    assert first.state == "retired" and first.removes_at == second.activates_at + retention_period()
    assert jwks_kids(client)[:2] == [second.kid, first.kid]

    assert advance_keys(now=first.removes_at - timedelta(seconds=1)) == []
    assert [(c.kid, c.change) for c in advance_keys(now=first.removes_at)] == [(first.kid, "removed")]
    assert not SigningKey.objects.filter(kid=first.kid).exists()
    assert first.kid not in jwks_kids(client)
    assert events(Event.KEY_SCHEDULED, Event.KEY_ACTIVATED, Event.KEY_RETIRED, Event.KEY_REMOVED) == [
        ("key_scheduled", first.kid),
        ("key_activated", first.kid),
        ("key_scheduled", second.kid),
        ("key_retired", first.kid),
        ("key_activated", second.kid),
        ("key_removed", first.kid),
    ]


def test_a_second_rotation_while_a_key_waits_is_refused():
    from django.core.exceptions import ValidationError

    rotate_key()
    with pytest.raises(ValidationError, match="already published"):
        rotate_key()


def test_a_token_signed_before_a_rotation_verifies_against_the_served_jwks_after(client, tokens):
    old_kid = kid_of_token(tokens["id_token"])
    key = rotate_key()
    advance_keys(now=key.activates_at)
    assert kid_of_token(sign_jwt({"sub": "1"})) == key.kid != old_kid
    assert verify_id_token(client, tokens["id_token"])["sub"]
    # ...and still works as a logout hint.
    response = client.get(
        "/end-session", {"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": LOGGED_OUT}
    )
    assert response.status_code == 302


def test_an_rp_caching_jwks_before_the_rotation_verifies_every_token_without_refetching(client, user):
    from tests.factories import ApplicationFactory

    app = ApplicationFactory(client_id="cached-rp")
    client.force_login(user)
    t0 = timezone.now()
    key = rotate_key(now=t0)
    cached = jwk.JWKSet.from_json(client.get("/.well-known/jwks.json").content)  # fetched once, kept

    def verify_with_cache(token: str) -> str:
        jwt.JWT(jwt=token, key=cached, algs=["RS256"], check_claims={"exp": None})
        return kid_of_token(token)

    before = exchange(client, app, authorize(client, app)).json()["id_token"]
    advance_keys(now=key.activates_at)  # the cache lifetime the RP was told has passed
    after = exchange(client, app, authorize(client, app)).json()["id_token"]
    assert verify_with_cache(before) != verify_with_cache(after) == key.kid


def test_emergency_rotation_withdraws_the_old_key_at_once(client, tokens):
    old_kid = kid_of_token(tokens["id_token"])  # the environment's key
    new = emergency_rotate()
    assert new.state == "active" and kid_of_token(sign_jwt({"sub": "1"})) == new.kid
    assert old_kid not in jwks_kids(client)
    revoked = SigningKey.objects.get(kid=old_kid)
    assert revoked.state == "revoked" and revoked.encrypted_private_key == ""
    # What breaks, as the warning says: the old key's tokens no longer verify or serve as hints.
    with pytest.raises(jwk.JWException):  # no key of that kid in the set
        verify_id_token(client, tokens["id_token"])
    response = client.get(
        "/end-session", {"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": LOGGED_OUT}
    )
    assert response.status_code == 400
    # A second emergency revokes the stored key, erasing its private key too.
    newer = emergency_rotate()
    new.refresh_from_db()
    assert new.state == "revoked" and new.encrypted_private_key == "" and newer.kid in jwks_kids(client)
    assert new.kid not in jwks_kids(client)
    assert events(Event.KEY_REVOKED) == [("key_revoked", old_kid), ("key_revoked", new.kid)]


def test_emergency_rotation_also_withdraws_a_waiting_next_key(client):
    """A next key made before the compromise was exposed alike (same database, same KEK), and on its
    schedule `advance` would retire the emergency key and sign with it. It never signed anything:
    withdrawing it breaks nothing."""
    t0 = timezone.now()
    waiting = rotate_key(now=t0)
    fresh = emergency_rotate(now=t0 + timedelta(minutes=5))
    waiting.refresh_from_db()
    assert waiting.state == "revoked" and waiting.encrypted_private_key == ""
    assert waiting.kid not in jwks_kids(client)
    advance_keys(now=waiting.activates_at)
    assert kid_of_token(sign_jwt({"sub": "1"})) == fresh.kid
    assert (Event.KEY_REVOKED.value, waiting.kid) in events(Event.KEY_REVOKED)


def test_idp_keys_commands_rotate_advance_and_list(capsys):
    call_command("idp_keys", "rotate", "--alg", "ES256")
    out = capsys.readouterr().out
    assert "signs now" in out  # no ES256 key signed before
    call_command("idp_keys", "rotate")
    assert "is published; it signs from" in capsys.readouterr().out
    call_command("idp_keys", "advance")
    assert "No key changes due." in capsys.readouterr().out
    call_command("idp_keys", "list")
    listing = capsys.readouterr().out
    assert "ES256  active*  database" in listing and "RS256  next  database" in listing
    assert "RS256  active*  environment" in listing
    assert "PRIVATE" not in listing and '"d"' not in listing
    call_command("idp_keys", "rotate", "--alg", "ES256", "--emergency", "--yes")
    captured = capsys.readouterr()
    assert "EMERGENCY ROTATION" in captured.err and "stops verifying" in captured.err


def test_sign_jwt_es256_is_verified_by_jwcrypto():
    rotate_key(alg="ES256")
    token = sign_jwt({"sub": "42"}, alg="ES256")
    parsed = jws.JWS()
    parsed.deserialize(token)
    assert parsed.jose_header["alg"] == "ES256"
    public = jwk.JWK(**SigningKey.objects.get(alg="ES256").public_jwk)
    assert json.loads(jwt.JWT(jwt=token, key=public, algs=["ES256"], check_claims={}).claims) == {"sub": "42"}


def test_advance_does_not_activate_a_next_key_it_cannot_decrypt(settings, capsys):
    """`idp_keys rotate` run in a shell with another key-encryption key (say the development one a
    loopback issuer generates into var/keys/) stores a key the servers cannot read: activating it
    would stop every sign-in (503) an hour later. It stays next; the working key keeps signing."""
    working = active_key().thumbprint()
    real_kek = settings.IDP["KEY_ENCRYPTION_KEY"]
    settings.IDP = {**settings.IDP, "KEY_ENCRYPTION_KEY": generate_kek()}
    unreadable = rotate_key(now=timezone.now() - prepublication_period() - timedelta(seconds=1))
    settings.IDP = {**settings.IDP, "KEY_ENCRYPTION_KEY": real_kek}

    call_command("idp_keys", "advance")  # the scheduled run, due now
    unreadable.refresh_from_db()
    assert unreadable.state == "next"
    assert kid_of_token(sign_jwt({"sub": "1"})) == working
    assert "cannot be decrypted" in capsys.readouterr().err


def test_an_emergency_rotation_without_a_terminal_or_yes_rotates_nothing(monkeypatch, capsys):
    """Under cron (stdin at its end) the confirmation reads nothing: a clear refusal, not a traceback."""
    import io

    from django.core.management.base import CommandError

    before = active_key().thumbprint()
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    with pytest.raises(CommandError, match="Not rotated"):
        call_command("idp_keys", "rotate", "--emergency")
    assert active_key().thumbprint() == before and not SigningKey.objects.exists()

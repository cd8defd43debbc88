"""Each process's key set: rebuilt when another process announces a key change, cheap otherwise."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from jwcrypto import jwk

from idp import key_set
from idp.key_set import CHECK_INTERVAL, VERSION_KEY, current_key_set, public_jwk
from idp.keys import generate_private_key_pem, jwks_document
from idp.models import SigningKey

pytestmark = pytest.mark.django_db


class Clock:
    """time.monotonic for idp.key_set, moved by hand."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(key_set.time, "monotonic", fake)
    return fake


def store_in_another_process(*, state: str = "next") -> str:
    """What `idp_keys rotate` in another process leaves behind: a row, and a new version stamp."""
    private = jwk.JWK.from_pem(generate_private_key_pem(alg="ES256").encode())
    SigningKey.objects.create(
        kid=private.thumbprint(), alg="ES256", state=state, public_jwk=public_jwk(private, alg="ES256")
    )
    cache.set(VERSION_KEY, "changed elsewhere", timeout=None)
    return private.thumbprint()


def test_a_key_change_in_another_process_is_seen_within_the_check_interval(clock):
    jwks_document()
    kid = store_in_another_process()
    with CaptureQueriesContext(connection) as ctx:
        assert kid.encode() not in jwks_document()  # still this process's set, and no query
    assert len(ctx.captured_queries) == 0
    clock.now += CHECK_INTERVAL
    assert kid.encode() in jwks_document()


def test_without_a_change_the_database_is_not_read_again(clock):
    jwks_document()
    for _ in range(3):
        clock.now += CHECK_INTERVAL
        with CaptureQueriesContext(connection) as ctx:
            jwks_document()
        assert ctx.captured_queries == []


def test_a_flushed_cache_makes_every_process_read_the_keys_again(clock):
    jwks_document()
    private = jwk.JWK.from_pem(generate_private_key_pem(alg="ES256").encode())
    SigningKey.objects.create(
        kid=private.thumbprint(), alg="ES256", state="next", public_jwk=public_jwk(private, alg="ES256")
    )
    cache.clear()
    clock.now += CHECK_INTERVAL
    assert private.thumbprint().encode() in jwks_document()


def test_readyz_fails_when_no_key_is_active(client, settings):
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_RSA_PRIVATE_KEY": ""}
    store_in_another_process(state="next")  # published, but not signing
    key_set.forget_keys()
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json()["checks"]["signing_key"] == "unavailable"
    assert current_key_set().algorithms == ()


def test_a_change_without_a_new_version_stamp_is_seen_within_the_reload_interval(clock):
    """A cache local to each process (``make serve`` without REDIS_URL: two workers, two LocMem
    caches), or an announcement lost to a cache blip: no stamp changes where this process looks, and
    it must still read the keys again within ``RELOAD_WITHOUT_CACHE`` seconds, not never."""
    jwks_document()
    private = jwk.JWK.from_pem(generate_private_key_pem(alg="ES256").encode())
    SigningKey.objects.create(
        kid=private.thumbprint(), alg="ES256", state="active", public_jwk=public_jwk(private, alg="ES256")
    )  # another process's change; its announcement never reaches this process's cache
    clock.now += key_set.RELOAD_WITHOUT_CACHE + CHECK_INTERVAL
    assert private.thumbprint().encode() in jwks_document()

"""Private signing keys at rest: encrypted under the KEK, bound to their row; a wrong KEK fails clearly."""

import base64

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from jwcrypto import jwk

from idp.key_rotation import emergency_rotate, rotate_key
from idp.key_storage import KeyDecryptionError, decrypt_private_key, generate_kek, parse_kek
from idp.models import SigningKey
from tests.conftest import authorize, exchange

pytestmark = pytest.mark.django_db


def raw_rows() -> str:
    """Everything in the table, as anyone reading the database (a backup, a replica) sees it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM idp_signingkey")
        return repr(cursor.fetchall())


def b64(number: str) -> list[str]:
    """A JWK parameter, and its bytes in the encodings a dump might show."""
    raw = base64.urlsafe_b64decode(number + "=" * (-len(number) % 4))
    return [number, raw.hex(), base64.b64encode(raw).decode()]


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_no_private_key_material_is_readable_from_the_table(alg):
    key = emergency_rotate(alg=alg)  # active at once: its private key is used
    pem = decrypt_private_key(key.encrypted_private_key, kid=key.kid, alg=alg)
    private = jwk.JWK.from_pem(pem.encode()).export_private(as_dict=True)
    dump = raw_rows()
    assert "PRIVATE KEY" not in dump and pem.splitlines()[1] not in dump
    for name in ("d", "p", "q") if alg == "RS256" else ("d",):
        assert not any(form in dump for form in b64(private[name])), name
    assert key.kid in dump and "d" not in SigningKey.objects.get(kid=key.kid).public_jwk


def test_another_kek_cannot_decrypt_and_says_so():
    key = rotate_key(alg="ES256")
    with pytest.raises(
        KeyDecryptionError, match="cannot be decrypted with the configured key-encryption key"
    ):
        decrypt_private_key(key.encrypted_private_key, kid=key.kid, alg=key.alg, kek=generate_kek())


def test_a_ciphertext_moved_to_another_row_does_not_decrypt():
    first = rotate_key(alg="ES256")
    second = emergency_rotate(alg="ES256")
    with pytest.raises(KeyDecryptionError):
        decrypt_private_key(first.encrypted_private_key, kid=second.kid, alg=second.alg)
    with pytest.raises(KeyDecryptionError):
        decrypt_private_key(second.encrypted_private_key, kid=second.kid, alg="RS256")


@pytest.mark.parametrize("text", [None, "", "short", "!" * 43, base64.urlsafe_b64encode(b"x" * 31).decode()])
def test_a_malformed_kek_is_refused_naming_the_setting(text):
    with pytest.raises(ImproperlyConfigured, match="KEY_ENCRYPTION_KEY"):
        parse_kek(text)


def test_rotation_without_a_kek_is_refused_before_any_key_is_made(settings):
    settings.IDP = {**settings.IDP, "KEY_ENCRYPTION_KEY": None}
    with pytest.raises(ImproperlyConfigured, match="IDP_KEY_ENCRYPTION_KEY"):
        rotate_key()
    assert not SigningKey.objects.exists()


def test_with_a_wrong_kek_tokens_are_refused_with_503_json_and_readyz_fails(
    client, settings, user, web_client
):
    emergency_rotate()  # a stored RS256 key signs
    settings.IDP = {**settings.IDP, "KEY_ENCRYPTION_KEY": generate_kek()}
    client.force_login(user)
    response = exchange(client, web_client, authorize(client, web_client))
    assert response.status_code == 503
    assert response.json()["error"] == "temporarily_unavailable"
    assert response["Cache-Control"] == "no-store"
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["checks"]["signing_key"] == "unavailable"
    # Publishing needs no private key: relying parties keep verifying what was issued.
    assert client.get("/.well-known/jwks.json").status_code == 200

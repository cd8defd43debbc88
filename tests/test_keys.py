"""Signing keys: generated once in development, loaded from env or file, required in production."""

import json

import pytest
from django.core.exceptions import ImproperlyConfigured
from jwcrypto import jwk

from idp.keys import generate_private_key_pem, load_signing_keys


def test_development_key_is_generated_once_and_private(tmp_path):
    first = load_signing_keys(pem=None, path=None, retired_paths=[], dev_dir=tmp_path)[0]
    second = load_signing_keys(pem=None, path=None, retired_paths=[], dev_dir=tmp_path)[0]
    assert first == second
    assert (tmp_path / "signing.pem").stat().st_mode & 0o077 == 0
    assert jwk.JWK.from_pem(first.encode()).has_private


def test_key_from_environment_text_with_escaped_newlines():
    pem = generate_private_key_pem()
    active, retired = load_signing_keys(
        pem=pem.replace("\n", "\\n"), path=None, retired_paths=[], dev_dir=None
    )
    assert jwk.JWK.from_pem(active.encode()).thumbprint() == jwk.JWK.from_pem(pem.encode()).thumbprint()
    assert retired == []


def test_key_from_file_and_retired_files(tmp_path):
    active_file, retired_file = tmp_path / "a.pem", tmp_path / "r.pem"
    active_file.write_text(generate_private_key_pem())
    retired_file.write_text(generate_private_key_pem())
    active, retired = load_signing_keys(
        pem=None, path=str(active_file), retired_paths=[str(retired_file)], dev_dir=None
    )
    assert active == active_file.read_text()
    assert retired == [retired_file.read_text()]


def test_production_without_a_key_fails_clearly():
    with pytest.raises(ImproperlyConfigured, match="IDP_SIGNING_KEY"):
        load_signing_keys(pem=None, path=None, retired_paths=[], dev_dir=None)


def test_malformed_key_fails_clearly():
    with pytest.raises(ImproperlyConfigured, match="not a valid"):
        load_signing_keys(pem="not a pem", path=None, retired_paths=[], dev_dir=None)


def test_unreadable_key_file_fails_clearly(tmp_path):
    with pytest.raises(ImproperlyConfigured, match="cannot be read"):
        load_signing_keys(pem=None, path=str(tmp_path / "missing.pem"), retired_paths=[], dev_dir=None)


@pytest.mark.django_db
def test_after_rotation_old_id_tokens_still_verify_and_work_as_logout_hints(client, settings, tokens):
    from tests.conftest import verify_id_token

    old_key = settings.OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"]
    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "OIDC_RSA_PRIVATE_KEY": generate_private_key_pem(),
        "OIDC_RSA_PRIVATE_KEYS_INACTIVE": [old_key],
    }
    assert verify_id_token(client, tokens["id_token"])["aud"] == "web-client"
    response = client.get(
        "/end-session",
        {
            "id_token_hint": tokens["id_token"],
            "post_logout_redirect_uri": "https://rp.example.com/logged-out",
        },
    )
    assert response.status_code == 302
    # Once the old key is no longer published, its tokens stop verifying.
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_RSA_PRIVATE_KEYS_INACTIVE": []}
    response = client.get(
        "/end-session",
        {
            "id_token_hint": tokens["id_token"],
            "post_logout_redirect_uri": "https://rp.example.com/logged-out",
        },
    )
    assert response.status_code == 400


@pytest.mark.django_db
def test_new_id_tokens_are_signed_with_the_active_key(logged_in, web_client, settings):
    from jwcrypto import jws

    from tests.conftest import authorize, exchange

    new_key = generate_private_key_pem()
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_RSA_PRIVATE_KEY": new_key}
    id_token = exchange(logged_in, web_client, authorize(logged_in, web_client)).json()["id_token"]
    token = jws.JWS()
    token.deserialize(id_token)
    assert token.jose_header["kid"] == jwk.JWK.from_pem(new_key.encode()).thumbprint()
    assert token.jose_header["alg"] == "RS256"


@pytest.mark.django_db  # keys kept in the database are read too
def test_sign_jwt_makes_a_jws_that_jwcrypto_verifies(settings):
    from jwcrypto import jws, jwt

    from idp.keys import sign_jwt

    pem = generate_private_key_pem()
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_RSA_PRIVATE_KEY": pem}
    key = jwk.JWK.from_pem(pem.encode())
    claims = {"iss": "http://127.0.0.1:8000", "sub": "42", "aud": "rp", "exp": 2000000000, "nonce": "é"}
    public = jwk.JWK(**json.loads(key.export_public()))
    verified = jwt.JWT(jwt=sign_jwt(claims), key=public, algs=["RS256"], check_claims={"exp": None})
    assert json.loads(verified.claims) == claims
    assert json.loads(verified.header) == {"typ": "JWT", "alg": "RS256", "kid": key.thumbprint()}
    other = jwk.JWK(**json.loads(jwk.JWK.from_pem(generate_private_key_pem().encode()).export_public()))
    with pytest.raises(jws.InvalidJWSSignature):
        jwt.JWT(jwt=sign_jwt(claims), key=other, algs=["RS256"], check_claims={"exp": None})

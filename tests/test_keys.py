"""Signing keys: generated once in development, loaded from env or file, required in production."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from jwcrypto import jwk

from idp.keys import ensure_key_file, generate_private_key_pem, load_signing_keys


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


def test_ensure_key_file_keeps_an_existing_key(tmp_path):
    path = tmp_path / "k.pem"
    path.write_text("existing")
    assert ensure_key_file(path) == "existing"

"""The explorer's token report: a signature verified against a JWKS (jwcrypto), claims checked and glossed."""

import time
from datetime import UTC, datetime

import pytest
from jwcrypto.common import base64url_decode, base64url_encode

from idp.explorer.token_report import at_hash, explain_jwt
from idp.key_rotation import rotate_key
from tests import explorer_samples as samples
from tests.conftest import authorize, exchange
from tests.factories import ApplicationFactory

ALGS = ["RS256", "ES256"]


@pytest.fixture(scope="module", params=ALGS)
def key(request):
    return samples.signing_key(request.param)


def report_of(token, key, **overrides):
    arguments = {
        "jwks": samples.jwks_of(key),
        "issuer": samples.ISSUER,
        "client_id": samples.CLIENT_ID,
        "nonce": samples.NONCE,
        "access_token": samples.ACCESS_TOKEN,
        **overrides,
    }
    return explain_jwt(token, **arguments)


def failed(report) -> set[str]:
    return {check.name for check in report.checks if not check.ok}


def test_a_good_id_token_passes_every_check(key):
    report = report_of(samples.id_token(key), key)
    assert report.kind == "jwt" and report.verified and report.ok
    assert [check.name for check in report.checks] == [
        "signature",
        "iss",
        "aud",
        "azp",
        "exp",
        "iat",
        "nonce",
        "at_hash",
    ]
    assert report.alg == key.get("alg") and report.kid == "test-key"
    assert report.header == {"alg": key.get("alg"), "kid": "test-key", "typ": "JWT"}
    assert report.check("signature").sentence.startswith(f"The {key.get('alg')} signature verifies")


def with_byte_changed(token: str, segment: int, *, old: bytes | None = None, new: bytes | None = None) -> str:
    """``token`` with a byte of a decoded segment changed (``old`` -> ``new``, or the middle one flipped)."""
    parts = token.split(".")
    data = bytearray(base64url_decode(parts[segment]))
    if old is None:
        data[len(data) // 2] ^= 1
    else:
        assert len(old) == len(new) and sum(a != b for a, b in zip(old, new, strict=True)) == 1
        data = bytearray(bytes(data).replace(old, new, 1))
    parts[segment] = base64url_encode(bytes(data))
    return ".".join(parts)


def test_one_byte_changed_in_the_claims_fails_the_signature(key):
    tampered = with_byte_changed(samples.id_token(key), 1, old=b'"248289761001"', new=b'"248289761002"')
    report = report_of(tampered, key)
    assert not report.verified and failed(report) == {"signature"}
    assert "does not verify" in report.check("signature").sentence
    assert {claim.name: claim.value for claim in report.claims}["sub"] == "248289761002"  # shown, not trusted


def test_one_byte_changed_in_the_signature_fails_it(key):
    report = report_of(with_byte_changed(samples.id_token(key), 2), key)
    assert not report.verified and failed(report) == {"signature"}


def test_one_byte_changed_in_the_header_fails_it(key):
    tampered = with_byte_changed(samples.id_token(key), 0, old=b'"JWT"', new=b'"JWS"')
    assert failed(report_of(tampered, key)) == {"signature"}


def test_a_non_canonical_encoding_of_the_genuine_token_is_refused(key):
    # jwcrypto decodes leniently: the genuine signature with junk added would verify. Not here.
    header, claims, signature = samples.id_token(key).split(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    assert len(base64url_decode(signature)) % 3 == 1  # 256 or 64 bytes: the last character has 4 unused bits
    spare_bit_set = signature[:-1] + alphabet[alphabet.index(signature[-1]) | 1]
    assert base64url_decode(spare_bit_set) == base64url_decode(signature)  # the same bytes...
    for token in (f"{header}.{claims}.{spare_bit_set}", f"{header}.{claims}.{signature}=="):
        assert report_of(token, key).kind == "malformed"  # ...but not the token that was signed


def test_a_token_signed_by_another_key_with_the_same_kid_fails(key):
    impostor = samples.signing_key(key.get("alg"))
    report = report_of(samples.id_token(impostor), key)
    assert failed(report) == {"signature"}


def test_a_wrong_at_hash_fails(key):
    report = report_of(
        samples.id_token(key, at_hash=at_hash("another-access-token", alg=key.get("alg"))), key
    )
    assert report.verified and failed(report) == {"at_hash"}
    assert "hashes to" in report.check("at_hash").sentence


def test_an_expired_token_fails_exp(key):
    now = int(time.time())
    report = report_of(samples.id_token(key, exp=now - 120, iat=now - 3720), key)
    assert report.verified and failed(report) == {"exp"}
    assert (
        report.check("exp").sentence.startswith("Expired at")
        and "2 minutes ago" in report.check("exp").sentence
    )


def test_a_token_for_another_audience_fails_aud_and_azp(key):
    report = report_of(samples.id_token(key, aud="someone-else", azp="someone-else"), key)
    assert report.verified and failed(report) == {"aud", "azp"}


def test_several_audiences_need_an_azp(key):
    report = report_of(samples.id_token(key, aud=[samples.CLIENT_ID, "api"], azp=None), key)
    assert failed(report) == {"azp"}


def test_wrong_issuer_and_nonce_fail(key):
    report = report_of(samples.id_token(key, iss="https://evil.example", nonce="replayed"), key)
    assert failed(report) == {"iss", "nonce"}
    assert report_of(samples.id_token(key, nonce=None), key).check("nonce").ok is False


def test_nonce_and_at_hash_are_checked_only_when_known(key):
    report = report_of(samples.id_token(key), key, nonce=None, access_token=None)
    assert [check.name for check in report.checks] == ["signature", "iss", "aud", "azp", "exp", "iat"]
    without = report_of(samples.id_token(key, at_hash=None), key)
    assert without.check("at_hash").ok and "optional" in without.check("at_hash").sentence


def test_an_issued_in_the_future_token_fails_iat(key):
    report = report_of(samples.id_token(key, iat=int(time.time()) + 3600), key)
    assert failed(report) == {"iat"}


def test_an_unknown_kid_says_the_keys_may_have_rotated(key):
    other = samples.signing_key(key.get("alg"), kid="another-key")
    report = report_of(samples.id_token(key), key, jwks=samples.jwks_of(other))
    assert failed(report) == {"signature"} and "rotated" in report.check("signature").sentence


def test_no_jwks_cannot_verify(key):
    report = report_of(samples.id_token(key), key, jwks={})
    assert not report.verified and "No JWKS" in report.check("signature").sentence


def test_alg_none_is_refused():
    unsigned = "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.c2ln"  # {"alg":"none"}.{"sub":"1"}
    report = explain_jwt(unsigned, jwks={"keys": []}, issuer=samples.ISSUER, client_id=samples.CLIENT_ID)
    assert not report.verified and "'none'" in report.check("signature").sentence


def test_claims_are_glossed_and_times_dated(key):
    token = samples.id_token(key, favourite_colour="blue", iat=1700000000, exp=1700003600)
    claims = {claim.name: claim for claim in report_of(token, key).claims}
    assert claims["favourite_colour"].meaning == "Not a standard claim."
    assert claims["iat"].value == "1700000000 (2023-11-14 22:13:20 UTC)"
    assert claims["amr"].value == '["pwd"]' and "password" in claims["amr"].meaning
    assert claims["nonce"].meaning.startswith("The value the app sent")


def test_now_can_be_given(key):
    token = samples.id_token(key, iat=1700000000, exp=1700003600)
    assert report_of(token, key, now=datetime(2023, 11, 14, 23, tzinfo=UTC)).check("exp").ok
    assert not report_of(token, key, now=datetime(2023, 11, 15, tzinfo=UTC)).check("exp").ok


def test_an_opaque_token_is_said_to_be_readable_only_by_the_server():
    report = explain_jwt(samples.ACCESS_TOKEN, jwks={}, issuer=samples.ISSUER, client_id=samples.CLIENT_ID)
    assert report.kind == "opaque" and not report.checks and "introspection" in report.summary


@pytest.mark.parametrize(
    "token",
    [
        "a.b",
        "a.b.c.d",
        "e30.e30.!!",
        "eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln",
        "WzFd.e30.c2ln",
        "e30=.e30.c2ln",
        "e30.e31.c2ln",
    ],
)
def test_garbage_with_dots_is_malformed_never_an_exception(token):
    report = explain_jwt(token, jwks={"keys": []}, issuer=samples.ISSUER, client_id=samples.CLIENT_ID)
    assert report.kind == "malformed" and report.summary.startswith("Not a JSON Web Token")


def test_at_hash_matches_the_example_of_openid_connect_core():
    # OpenID Connect Core 1.0, Appendix A.3: an RS256 ID token's at_hash for this access token.
    assert at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y", alg="RS256") == "77QmUPtjPfzWtF2AnpK9RQ"


@pytest.mark.django_db
@pytest.mark.parametrize("alg", ALGS)
def test_the_providers_own_id_token_passes_against_the_served_jwks(client, user, alg):
    if alg == "ES256":
        rotate_key(alg="ES256")
    app = ApplicationFactory(client_id=f"{alg.lower()}-client", algorithm=alg)
    client.force_login(user)
    answer = exchange(client, app, authorize(client, app)).json()
    report = explain_jwt(
        answer["id_token"],
        jwks=client.get("/.well-known/jwks.json").json(),
        issuer="http://127.0.0.1:8000",
        client_id=app.client_id,
        nonce="n-0S6_WzA2Mj",
        access_token=answer["access_token"],
    )
    assert report.alg == alg and report.ok, report.checks
    assert explain_jwt(answer["access_token"], jwks={}, issuer="", client_id="").kind == "opaque"

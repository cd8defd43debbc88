"""The WebAuthn ceremonies of idp.mfa.passkeys, answered by a software authenticator with real keys."""

from __future__ import annotations

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory
from webauthn.helpers import bytes_to_base64url

from idp.mfa import passkeys
from idp.mfa.passkey_models import Passkey
from tests.factories import UserFactory
from tests.soft_authenticator import SoftAuthenticator

pytestmark = pytest.mark.django_db
ISSUER = "https://idp.example.com"


@pytest.fixture(autouse=True)
def issuer(settings, _oauth2_provider):
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": ISSUER}


def a_request():
    request = RequestFactory().post("/", HTTP_HOST="evil.example.net")
    request.session = SessionStore()
    return request


def authenticator(**kwargs) -> SoftAuthenticator:
    return SoftAuthenticator(origin=ISSUER, rp_id="idp.example.com", **kwargs)


def enrolled(
    user, key: SoftAuthenticator | None = None, *, name="Laptop"
) -> tuple[SoftAuthenticator, Passkey]:
    key = key or authenticator()
    request = a_request()
    options = passkeys.registration_options(request, user)
    return key, passkeys.register(request, user, credential=key.create(options), name=name)


def test_relying_party_comes_from_the_issuer():
    assert passkeys.relying_party() == ("idp.example.com", ISSUER)


def test_registration_options_ask_for_a_discoverable_passkey_and_exclude_the_persons_own():
    user = UserFactory()
    key, _ = enrolled(user)
    request = a_request()
    options = passkeys.registration_options(request, user)
    assert options["rp"] == {"id": "idp.example.com", "name": options["rp"]["name"]}
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "preferred"
    assert [c["id"] for c in options["excludeCredentials"]] == [key.id]
    assert options["user"]["name"] == user.get_username()
    assert options["user"]["id"] == bytes_to_base64url(passkeys.user_handle(user))


def test_registration_stores_the_verified_key():
    user = UserFactory()
    key, _ = enrolled(user, name="  My   phone ")
    stored = Passkey.objects.get()
    assert stored.user == user and stored.credential_id == key.id
    assert stored.name == "My phone" and stored.transports == ["internal"]
    assert stored.backup_eligible and stored.backed_up and stored.user_verified
    assert stored.aaguid == "00000000-0000-0000-0000-000000000000"


def test_registration_from_another_origin_is_refused():
    user = UserFactory()
    request = a_request()
    options = passkeys.registration_options(request, user)
    with pytest.raises(passkeys.PasskeyRefused) as refused:
        passkeys.register(
            request,
            user,
            credential=authenticator().create(options, origin="https://evil.example.net"),
            name="x",
        )
    assert refused.value.reason == "wrong_origin"
    assert not Passkey.objects.exists()


def test_registration_for_another_rp_id_is_refused():
    user = UserFactory()
    request = a_request()
    options = passkeys.registration_options(request, user)
    with pytest.raises(passkeys.PasskeyRefused) as refused:
        passkeys.register(
            request, user, credential=authenticator().create(options, rp_id="evil.example.net"), name="x"
        )
    assert refused.value.reason == "wrong_rp_id"


def test_the_same_credential_cannot_be_registered_twice():
    user = UserFactory()
    key, _ = enrolled(user)
    with pytest.raises(passkeys.PasskeyRefused) as refused:
        enrolled(UserFactory(), key)
    assert refused.value.reason == "passkey_already_registered"


def test_second_factor_accepts_the_persons_key_and_counts_its_signatures():
    user = UserFactory()
    key, passkey = enrolled(user)
    request = a_request()
    options = passkeys.authentication_options(request, user=user)
    assert [c["id"] for c in options["allowCredentials"]] == [key.id]
    assertion = passkeys.authenticate(request, credential=key.get(options), user=user)
    assert assertion.passkey.pk == passkey.pk and assertion.user_verified
    assert assertion.amr == ["hwk", "pin"]
    passkey.refresh_from_db()
    assert passkey.sign_count == 1 and passkey.last_used is not None


def test_without_user_verification_the_amr_says_user_presence():
    user = UserFactory()
    key, _ = enrolled(user, authenticator(user_verifies=False))
    request = a_request()
    options = passkeys.authentication_options(request, user=user)
    assert passkeys.authenticate(request, credential=key.get(options), user=user).amr == ["hwk", "user"]


def test_passwordless_sign_in_finds_the_owner_by_the_credential():
    user = UserFactory()
    key, _ = enrolled(user)
    request = a_request()
    options = passkeys.authentication_options(request)
    assert options["allowCredentials"] == []
    assert passkeys.authenticate(request, credential=key.get(options)).passkey.user == user


def test_a_challenge_answers_once():
    user = UserFactory()
    key, _ = enrolled(user)
    request = a_request()
    options = passkeys.authentication_options(request, user=user)
    answer = key.get(options)
    passkeys.authenticate(request, credential=answer, user=user)
    with pytest.raises(passkeys.PasskeyRefused) as refused:
        passkeys.authenticate(request, credential=answer, user=user)
    assert refused.value.reason == "no_challenge"


def test_an_answer_to_another_challenge_is_refused():
    user = UserFactory()
    key, _ = enrolled(user)
    request = a_request()
    old = passkeys.authentication_options(request, user=user)
    passkeys.authentication_options(request, user=user)
    with pytest.raises(passkeys.PasskeyRefused) as refused:
        passkeys.authenticate(request, credential=key.get(old), user=user)
    assert refused.value.reason == "wrong_challenge"


def test_an_expired_challenge_is_refused(monkeypatch):
    user = UserFactory()
    key, _ = enrolled(user)
    request = a_request()
    options = passkeys.authentication_options(request, user=user)
    request.session[passkeys.SESSION_KEY] = {**request.session[passkeys.SESSION_KEY], "expires": 0}
    with pytest.raises(passkeys.PasskeyRefused) as refused:
        passkeys.authenticate(request, credential=key.get(options), user=user)
    assert refused.value.reason == "challenge_expired"


def test_a_passwordless_challenge_does_not_answer_a_second_factor_request():
    user = UserFactory()
    key, _ = enrolled(user)
    request = a_request()
    options = passkeys.authentication_options(request)
    with pytest.raises(passkeys.PasskeyRefused) as refused:
        passkeys.authenticate(request, credential=key.get(options), user=user)
    assert refused.value.reason == "no_challenge"


def test_an_unknown_credential_is_refused():
    user = UserFactory()
    enrolled(user)
    request = a_request()
    options = passkeys.authentication_options(request)
    stranger = authenticator()
    stranger.user_handle = b"x"
    with pytest.raises(passkeys.PasskeyRefused) as refused:
        passkeys.authenticate(request, credential=stranger.get(options))
    assert refused.value.reason == "unknown_passkey"


def test_someone_elses_passkey_is_not_a_second_factor():
    alice, mallory = UserFactory(), UserFactory()
    enrolled(alice)
    mallorys_key, _ = enrolled(mallory)
    request = a_request()
    options = passkeys.authentication_options(request, user=alice)
    with pytest.raises(passkeys.PasskeyRefused) as refused:
        passkeys.authenticate(request, credential=mallorys_key.get(options), user=alice)
    assert refused.value.reason == "foreign_passkey"


def test_a_wrong_origin_or_rp_id_is_refused():
    user = UserFactory()
    key, _ = enrolled(user)
    for kwargs, reason in (
        ({"origin": "https://idp.example.com.evil.net"}, "wrong_origin"),
        ({"rp_id": "example.com"}, "wrong_rp_id"),
    ):
        request = a_request()
        options = passkeys.authentication_options(request, user=user)
        with pytest.raises(passkeys.PasskeyRefused) as refused:
            passkeys.authenticate(request, credential=key.get(options, **kwargs), user=user)
        assert refused.value.reason == reason


def test_a_signature_counter_that_goes_back_is_refused():
    user = UserFactory()
    key, passkey = enrolled(user)
    request = a_request()
    passkeys.authenticate(
        request,
        credential=key.get(passkeys.authentication_options(request, user=user), count_step=5),
        user=user,
    )
    clone = SoftAuthenticator(
        origin=ISSUER,
        rp_id="idp.example.com",
        key=key.key,
        credential_id=key.credential_id,
        sign_count=2,
        user_handle=key.user_handle,
    )
    with pytest.raises(passkeys.PasskeyRefused) as refused:
        passkeys.authenticate(
            request, credential=clone.get(passkeys.authentication_options(request, user=user)), user=user
        )
    assert refused.value.reason == "sign_count_regressed"
    passkey.refresh_from_db()
    assert passkey.sign_count == 5


def test_a_tampered_signature_is_refused():
    user = UserFactory()
    key, _ = enrolled(user)
    request = a_request()
    answer = key.get(passkeys.authentication_options(request, user=user))
    impostor = authenticator()
    answer["response"]["signature"] = impostor.get({"challenge": "AAAA"})["response"]["signature"]
    with pytest.raises(passkeys.PasskeyRefused) as refused:
        passkeys.authenticate(request, credential=answer, user=user)
    assert refused.value.reason == "bad_signature"


@pytest.mark.parametrize(
    "credential", [None, "", "{", [], {"id": 1}, {"id": "a", "rawId": "a", "response": {}}]
)
def test_malformed_answers_are_refused_not_raised(credential):
    user = UserFactory()
    request = a_request()
    passkeys.authentication_options(request, user=user)
    with pytest.raises(passkeys.PasskeyRefused) as refused:
        passkeys.authenticate(request, credential=credential, user=user)
    assert refused.value.reason == "malformed_response"
    passkeys.registration_options(request, user)
    with pytest.raises(passkeys.PasskeyRefused):
        passkeys.register(request, user, credential=credential, name="x")


def test_a_deactivated_persons_passkey_signs_nobody_in():
    user = UserFactory()
    key, _ = enrolled(user)
    user.is_active = False
    user.save()
    request = a_request()
    options = passkeys.authentication_options(request)
    with pytest.raises(passkeys.PasskeyRefused) as refused:
        passkeys.authenticate(request, credential=key.get(options))
    assert refused.value.reason == "inactive_account"


def test_a_user_handle_that_names_someone_else_is_refused():
    user = UserFactory()
    key, _ = enrolled(user)
    key.user_handle = passkeys.user_handle(UserFactory())
    request = a_request()
    options = passkeys.authentication_options(request)
    with pytest.raises(passkeys.PasskeyRefused) as refused:
        passkeys.authenticate(request, credential=key.get(options))
    assert refused.value.reason == "user_handle_mismatch"

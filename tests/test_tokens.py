"""idp.tokens: checksums, claiming a code, and every way tokens are revoked, each recorded exactly once."""

import hashlib
import secrets
import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from idp import tokens
from idp.clients import set_client_active
from idp.consent import record_consent, revoke_consent
from idp.models import AccessToken, AuditEvent, Grant, RefreshToken
from tests.factories import ApplicationFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(db):
    return UserFactory(username="alice")


@pytest.fixture
def web(db):
    return ApplicationFactory(client_id="web")


@pytest.fixture
def other(db):
    return ApplicationFactory(client_id="other")


def issue(user, client, *, previous=None, refresh: bool = True) -> SimpleNamespace:
    """An access token and a refresh token in ``previous``'s family (or a new one), as the validator saves."""
    request = SimpleNamespace(user=user, client=client, resource=[], claims={}, auth_time=None, amr=[])
    values = SimpleNamespace(access=secrets.token_urlsafe(32), refresh=secrets.token_urlsafe(32))
    values.access_token = tokens.save_access_token(
        request,
        value=values.access,
        scope="openid offline_access",
        expires=timezone.now() + timedelta(hours=1),
        id_token=None,
        source_refresh_token=previous,
    )
    values.refresh_token = (
        tokens.save_refresh_token(
            request, value=values.refresh, access_token=values.access_token, previous=previous
        )
        if refresh
        else None
    )
    return values


def events(name: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(event=name))


def code_for(user, client, **fields) -> Grant:
    defaults = {
        "expires": timezone.now() + timedelta(minutes=1),
        "redirect_uri": "https://rp.example.com/callback",
    }
    return Grant.objects.create(
        application=client,
        user=user,
        code=secrets.token_urlsafe(32),
        scope="openid",
        **{**defaults, **fields},
    )


# --- checksums and codes -------------------------------------------------------------------------


def test_checksum_is_the_sha256_a_stored_token_is_found_by(alice, web):
    issued = issue(alice, web)
    assert tokens.checksum(issued.access) == hashlib.sha256(issued.access.encode()).hexdigest()
    assert AccessToken.objects.get(token_checksum=tokens.checksum(issued.access)) == issued.access_token
    assert issued.access_token.token == ""  # only the checksum is stored


def test_find_code_reads_the_code_with_its_person(alice, web, django_assert_num_queries):
    grant = code_for(alice, web)
    with django_assert_num_queries(1):
        found = tokens.find_code(grant.code)
        assert found == grant and found.user.username == "alice"
    assert tokens.find_code("never-issued") is None and tokens.find_code(None) is None


def test_claim_code_succeeds_once_and_links_the_tokens(alice, web):
    grant = code_for(alice, web)
    issued = issue(alice, web)
    family = issued.refresh_token.token_family
    assert tokens.claim_code(grant, access_token_id=issued.access_token.pk, token_family=family)
    assert not tokens.claim_code(grant, access_token_id=None, token_family=None)
    grant.refresh_from_db()
    assert grant.used_at is not None
    assert (grant.access_token_id, grant.token_family) == (issued.access_token.pk, family)


def test_check_code_accepts_a_live_unused_code_of_its_client(alice, web):
    assert tokens.check_code(code_for(alice, web), client=web)
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    "case", ["missing", "another client's", "expired", "of a deactivated person"], ids=lambda case: case
)
def test_check_code_refuses_without_revoking_or_recording(alice, web, other, case):
    grant = {
        "missing": lambda: None,
        "another client's": lambda: code_for(alice, other),
        "expired": lambda: code_for(alice, web, expires=timezone.now() - timedelta(seconds=1)),
        "of a deactivated person": lambda: code_for(UserFactory(is_active=False), web),
    }[case]()
    assert not tokens.check_code(grant, client=web)
    assert not AuditEvent.objects.exists()


def test_a_reused_code_revokes_what_it_became_and_is_recorded_once(alice, web):
    grant = code_for(alice, web)
    issued = issue(alice, web)
    assert tokens.claim_code(
        grant, access_token_id=issued.access_token.pk, token_family=issued.refresh_token.token_family
    )
    unrelated = issue(alice, web)
    assert not tokens.check_code(grant, client=web)
    assert not AccessToken.objects.filter(pk=issued.access_token.pk).exists()
    assert RefreshToken.objects.get(pk=issued.refresh_token.pk).revoked is not None
    assert AccessToken.objects.filter(pk=unrelated.access_token.pk).exists()
    (event,) = events("code_reuse")
    assert (event.actor, event.client, event.details) == (alice, web, {})


# --- refresh-token reuse -------------------------------------------------------------------------


def test_a_rotated_refresh_token_presented_again_revokes_its_family_once(alice, web):
    first = issue(alice, web)
    second = issue(alice, web, previous=first.refresh_token)
    first.refresh_token.revoke()  # rotated away
    elsewhere = issue(alice, web)
    tokens.detect_refresh_token_reuse(first.refresh, client=web)
    assert RefreshToken.objects.get(pk=second.refresh_token.pk).revoked is not None
    assert not AccessToken.objects.filter(pk=second.access_token.pk).exists()
    assert RefreshToken.objects.get(pk=elsewhere.refresh_token.pk).revoked is None  # another family
    (event,) = events("refresh_token_reuse")
    assert (event.actor, event.client, event.details) == (alice, web, {})


@pytest.mark.parametrize("case", ["live", "unknown", "another client's"])
def test_refresh_tokens_that_are_not_reuse_are_left_alone(alice, web, other, case):
    issued = issue(alice, other if case == "another client's" else web)
    if case == "another client's":
        issued.refresh_token.revoke()
    value = "never-issued" if case == "unknown" else issued.refresh
    tokens.detect_refresh_token_reuse(value, client=web)
    assert not events("refresh_token_reuse")


def test_a_refresh_token_lost_in_a_race_is_recorded_as_such(alice, web):
    issued = issue(alice, web)
    tokens.revoke_reused_refresh_token(issued.refresh_token, client=web, race=True)
    assert RefreshToken.objects.get(pk=issued.refresh_token.pk).revoked is not None
    assert not AccessToken.objects.exists()
    (event,) = events("refresh_token_reuse")
    assert event.details == {"race": True}


# --- a client revokes its own token (RFC 7009) ---------------------------------------------------


@pytest.mark.parametrize("hint", [None, "access_token", "refresh_token", "bogus"])
def test_a_client_revoking_its_access_token_also_ends_its_refresh_token(alice, web, hint):
    issued = issue(alice, web)
    tokens.revoke_by_client(issued.access, hint=hint, client=web)
    assert not AccessToken.objects.exists()
    assert RefreshToken.objects.get().revoked is not None
    (event,) = events("token_revoked")
    assert (event.client, event.details) == (web, {"via": "revocation endpoint"})


@pytest.mark.parametrize("hint", [None, "refresh_token"])
def test_a_client_revoking_its_refresh_token_ends_its_access_token(alice, web, hint):
    issued = issue(alice, web)
    tokens.revoke_by_client(issued.refresh, hint=hint, client=web)
    assert RefreshToken.objects.get().revoked is not None and not AccessToken.objects.exists()
    assert len(events("token_revoked")) == 1


def test_a_client_cannot_revoke_another_clients_token_and_nothing_is_recorded(alice, web, other):
    issued = issue(alice, web)
    tokens.revoke_by_client(issued.access, hint=None, client=other)
    tokens.revoke_by_client(issued.refresh, hint="refresh_token", client=other)
    tokens.revoke_by_client(issued.access, hint=None, client=None)
    assert AccessToken.objects.count() == 1 and RefreshToken.objects.get().revoked is None
    assert not events("token_revoked")


def test_revoking_an_already_revoked_refresh_token_records_nothing(alice, web):
    issued = issue(alice, web)
    issued.refresh_token.revoke()
    tokens.revoke_by_client(issued.refresh, hint="refresh_token", client=web)
    assert not events("token_revoked")


# --- an operator revokes one token or code -------------------------------------------------------


def test_an_operator_revoking_an_access_token_is_recorded_with_its_kind(alice, web):
    operator = UserFactory(username="operator")
    issued = issue(alice, web)
    assert tokens.revoke_by_operator(issued.access_token, actor=operator)
    assert not AccessToken.objects.exists() and RefreshToken.objects.get().revoked is not None
    (event,) = events("token_revoked")
    assert (event.actor, event.client) == (operator, web)
    assert event.details == {"user": "alice", "via": "admin", "kind": "access"}


def test_an_operator_revoking_a_refresh_token_once(alice, web):
    operator = UserFactory(username="operator")
    issued = issue(alice, web)
    assert tokens.revoke_by_operator(issued.refresh_token, actor=operator)
    assert not tokens.revoke_by_operator(RefreshToken.objects.get(), actor=operator)  # already revoked
    assert not AccessToken.objects.exists()
    (event,) = events("token_revoked")
    assert event.details == {"user": "alice", "via": "admin", "kind": "refresh"}


def test_an_operator_revoking_a_code_revokes_what_it_became_and_deletes_it(alice, web):
    operator = UserFactory(username="operator")
    grant = code_for(alice, web)
    issued = issue(alice, web)
    tokens.claim_code(
        grant, access_token_id=issued.access_token.pk, token_family=issued.refresh_token.token_family
    )
    assert tokens.revoke_by_operator(grant, actor=operator)
    assert not Grant.objects.exists() and not AccessToken.objects.exists()
    assert RefreshToken.objects.get().revoked is not None
    (event,) = events("token_revoked")
    assert event.details == {"user": "alice", "via": "admin", "kind": "authorization code"}


# --- every token of a person, a client, or a pairing ---------------------------------------------


def test_revoke_tokens_of_one_pairing_leaves_the_others(alice, web, other):
    bob = UserFactory(username="bob")
    issue(alice, web)
    issue(alice, web, refresh=False)
    kept = [issue(alice, other), issue(bob, web)]
    assert tokens.revoke_tokens(user=alice, client=web) == 3  # two access tokens, one refresh token
    assert set(AccessToken.objects.values_list("pk", flat=True)) == {k.access_token.pk for k in kept}
    assert RefreshToken.objects.filter(revoked__isnull=True).count() == 2
    assert not AuditEvent.objects.exists()  # the caller records why


def test_revoke_tokens_of_a_person_or_a_client(alice, web, other):
    bob = UserFactory(username="bob")
    issue(alice, web), issue(alice, other), issue(bob, web)
    assert tokens.revoke_tokens(user=alice) == 4
    assert list(AccessToken.objects.values_list("user__username", flat=True)) == ["bob"]
    assert tokens.revoke_tokens(client=web) == 2
    assert not AccessToken.objects.exists() and not RefreshToken.objects.filter(revoked__isnull=True).exists()


def test_revoke_tokens_refresh_only_keeps_access_tokens_without_a_refresh_token(alice, web):
    with_refresh, alone = issue(alice, web), issue(alice, web, refresh=False)
    assert tokens.revoke_tokens(user=alice, refresh_only=True) == 1
    assert list(AccessToken.objects.all()) == [alone.access_token]  # a family's access tokens go with it
    assert RefreshToken.objects.get(pk=with_refresh.refresh_token.pk).revoked is not None


def test_revoke_tokens_also_ends_refresh_tokens_without_a_family(alice, web):
    issued = issue(alice, web)
    RefreshToken.objects.filter(pk=issued.refresh_token.pk).update(token_family=None)
    assert tokens.revoke_tokens(client=web, refresh_only=True) == 1
    assert RefreshToken.objects.get().revoked is not None


def test_revoke_tokens_needs_a_person_or_a_client():
    with pytest.raises(ValueError):
        tokens.revoke_tokens()


# --- the callers record one event each -----------------------------------------------------------


def test_revoking_consent_revokes_the_pairings_tokens_and_records_once(alice, web, other):
    record_consent(alice, web, scopes=["openid"])
    issue(alice, web), issue(alice, other)
    assert revoke_consent(alice, web)
    assert list(AccessToken.objects.values_list("application__client_id", flat=True)) == ["other"]
    assert len(events("consent_revoked")) == 1
    assert not revoke_consent(alice, web)  # nothing left: no second event
    assert len(events("consent_revoked")) == 1


def test_disabling_a_client_revokes_its_tokens_and_records_once(alice, web, other):
    issue(alice, web), issue(alice, other)
    assert set_client_active(web, False)
    assert not set_client_active(web, False)
    assert list(AccessToken.objects.values_list("application__client_id", flat=True)) == ["other"]
    (event,) = events("client_disabled")
    assert event.details == {"revoked": 2}


def test_a_family_spans_rotations_and_nothing_else(alice, web):
    first = issue(alice, web)
    second = issue(alice, web, previous=first.refresh_token)
    assert second.refresh_token.token_family == first.refresh_token.token_family
    assert isinstance(first.refresh_token.token_family, uuid.UUID)
    assert issue(alice, web).refresh_token.token_family != first.refresh_token.token_family

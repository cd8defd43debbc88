"""The device grant's page for people, /device: code, sign-in, consent, answer, and guesses limited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import get_device_grant_model

from idp.consent import consent_need
from idp.models import AuditEvent
from tests.factories import PublicClientFactory, UserFactory
from tests.test_flow_device import poll, start

DeviceGrant = get_device_grant_model()


@pytest.fixture
def started(client, device_client):
    """A device that asked for ``openid profile``: the codes it was given."""
    return start(client, device_client).json()


def enter(client, code: str):
    return client.post("/device", {"user_code": code})


def test_signing_in_comes_first_and_keeps_the_prefilled_code(client, started):
    response = client.get("/device", {"user_code": started["user_code"]})

    assert response.status_code == 302
    assert response["Location"] == f"/login?next=/device%3Fuser_code%3D{started['user_code']}"


def test_verification_uri_complete_prefills_the_form(logged_in, started):
    response = logged_in.get(started["verification_uri_complete"])

    assert response.status_code == 200
    assert f'value="{started["user_code"]}"' in response.content.decode()
    assert 'class="site-header"' in response.content.decode()  # the layout of every page


@pytest.mark.parametrize("typed", ["{code}", "{lower}", "{bare}", " {spaced} ", "{lower_bare}"])
def test_code_matches_ignoring_case_spaces_and_dashes(logged_in, started, typed):
    code = started["user_code"]
    bare = code.replace("-", "")
    typed = typed.format(
        code=code, lower=code.lower(), bare=bare, spaced=" ".join(bare), lower_bare=bare.lower()
    )

    response = enter(logged_in, typed)

    assert response.status_code == 200
    assert response.templates[0].name == "idp/device_consent.html"


def test_consent_page_names_the_client_what_it_gets_and_warns_against_phishing(
    logged_in, started, device_client
):
    page = enter(logged_in, started["user_code"]).content.decode()

    assert device_client.name in page
    assert 'data-scope="openid"' in page and 'data-scope="profile"' in page
    assert "Only continue if you started this on a device in front of you." in page
    assert 'name="allow"' in page and 'name="deny"' in page


def test_allow_approves_for_the_signed_in_person_and_the_device_gets_its_tokens(
    logged_in,
    client,
    started,
    user,
    device_client,
):
    page = enter(logged_in, started["user_code"])

    response = logged_in.post("/device", {"allow": "1", "shown": page.context["shown"]})

    assert response.status_code == 200
    assert 'data-result="allowed"' in response.content.decode()
    assert "You can return to your device" in response.content.decode()
    grant = DeviceGrant.objects.get()
    assert (grant.status, grant.user, grant.auth_time is not None) == (grant.AUTHORIZED, user, True)
    event = AuditEvent.objects.get(event=AuditEvent.Event.DEVICE_APPROVED)
    assert (event.actor, event.client, event.details["scope"]) == (user, device_client, "openid profile")
    assert consent_need(user, device_client, scopes=["openid", "profile"]).satisfied  # under Connected apps
    tokens = poll(Client(), device_client, started["device_code"])
    assert tokens.status_code == 200, tokens.content
    assert tokens.json()["scope"] == "openid profile"


def test_deny_tells_the_device_access_denied(logged_in, started, user, device_client):
    page = enter(logged_in, started["user_code"])

    response = logged_in.post("/device", {"deny": "1", "shown": page.context["shown"]})

    assert 'data-result="denied"' in response.content.decode()
    assert DeviceGrant.objects.get().status == DeviceGrant.DENIED
    assert AuditEvent.objects.filter(event=AuditEvent.Event.DEVICE_DENIED, actor=user).count() == 1
    assert poll(Client(), device_client, started["device_code"]).json()["error"] == "access_denied"


def problem_of(response) -> str:
    assert response.status_code in (200, 429)
    assert response.templates[0].name == "idp/device_code.html"  # the same page, never an error page
    return response.context["problem"]


def test_wrong_code_is_a_message_on_the_same_page(logged_in, started):
    response = enter(logged_in, "BCDF-GHJK" if started["user_code"] != "BCDF-GHJK" else "CDFG-HJKL")

    assert problem_of(response) == "unknown"
    assert "That code is not right." in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()


@pytest.mark.parametrize("typed", ["", "not a code", "AEIO-UAEI", "x" * 5000])
def test_what_cannot_be_a_code_is_a_message_too(logged_in, db, typed):
    assert problem_of(enter(logged_in, typed)) == "unknown"


def test_expired_code_is_a_message_on_the_same_page(logged_in, started):
    DeviceGrant.objects.update(expires=timezone.now() - timedelta(seconds=1))

    response = enter(logged_in, started["user_code"])

    assert problem_of(response) == "expired"
    assert "That code has expired." in response.content.decode()


def test_used_code_is_a_message_on_the_same_page(logged_in, started):
    page = enter(logged_in, started["user_code"])
    logged_in.post("/device", {"allow": "1", "shown": page.context["shown"]})

    response = enter(logged_in, started["user_code"])

    assert problem_of(response) == "used"


def test_code_expiring_on_the_consent_page_is_not_approved(logged_in, started):
    page = enter(logged_in, started["user_code"])
    DeviceGrant.objects.update(expires=timezone.now() - timedelta(seconds=1))

    response = logged_in.post("/device", {"allow": "1", "shown": page.context["shown"]})

    assert problem_of(response) == "expired"
    assert DeviceGrant.objects.get().status == DeviceGrant.AUTHORIZATION_PENDING


def test_an_answer_without_a_code_shown_approves_nothing(logged_in, started):
    """The Allow form names no code: it cannot approve a grant the person was never shown."""
    response = logged_in.post("/device", {"allow": "1", "user_code": started["user_code"]})

    assert problem_of(response) == "unknown"
    assert DeviceGrant.objects.get().status == DeviceGrant.AUTHORIZATION_PENDING


def test_an_answer_counts_once(logged_in, started):
    shown = enter(logged_in, started["user_code"]).context["shown"]
    logged_in.post("/device", {"deny": "1", "shown": shown})

    assert problem_of(logged_in.post("/device", {"allow": "1", "shown": shown})) == "unknown"
    assert DeviceGrant.objects.get().status == DeviceGrant.DENIED


def test_the_forms_need_the_csrf_token(user, started):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)

    assert browser.post("/device", {"user_code": started["user_code"]}).status_code == 403


def test_guesses_are_limited_per_person(logged_in, started, settings):
    settings.IDP = {**settings.IDP, "DEVICE_USER_CODE_RATES": {"person": "3/hour", "address": None}}
    for _ in range(3):
        assert problem_of(enter(logged_in, "BCDF-BCDF")) == "unknown"

    response = enter(logged_in, started["user_code"])  # even the right code, once over the limit

    assert response.status_code == 429
    assert problem_of(response) == "too_many"
    assert "Too many codes tried. Wait 60 minutes" in response.content.decode()
    other = Client()
    other.force_login(UserFactory())
    assert enter(other, started["user_code"]).templates[0].name == "idp/device_consent.html"  # not them


def test_guesses_are_limited_per_address(client, started, settings):
    settings.IDP = {**settings.IDP, "DEVICE_USER_CODE_RATES": {"person": None, "address": "2/hour"}}
    people = [Client(REMOTE_ADDR="203.0.113.9") for _ in range(3)]
    for person in people:
        person.force_login(UserFactory())

    assert problem_of(enter(people[0], "BCDF-BCDF")) == "unknown"
    assert problem_of(enter(people[1], "BCDF-BCDF")) == "unknown"
    assert problem_of(enter(people[2], started["user_code"])) == "too_many"
    elsewhere = Client(REMOTE_ADDR="198.51.100.7")
    elsewhere.force_login(UserFactory())
    assert enter(elsewhere, started["user_code"]).status_code == 200


def test_an_answer_after_signing_in_as_someone_else_approves_nothing(logged_in, started):
    """After "Not you?", another person in the same browser: the grant shown to the first is gone."""
    page = enter(logged_in, started["user_code"])
    logged_in.force_login(UserFactory(username="mallory"))

    response = logged_in.post("/device", {"allow": "1", "shown": page.context["shown"]})

    assert problem_of(response) == "unknown"
    assert DeviceGrant.objects.get().status == DeviceGrant.AUTHORIZATION_PENDING


def test_an_answer_applies_to_the_grant_its_own_page_showed(logged_in, client, device_client):
    """Two consent pages open (a phisher's code typed in a second tab): Allow on the first page
    approves the first device, not the one shown last (security review F1)."""
    other = PublicClientFactory(
        client_id="evil-tv",
        name="Evil TV",
        kind="native",
        authorization_grant_type="urn:ietf:params:oauth:grant-type:device_code",
        redirect_uris="",
    )
    first = start(client, device_client).json()
    second = start(client, other).json()
    first_page = enter(logged_in, first["user_code"])
    second_page = enter(logged_in, second["user_code"])
    assert "Evil TV" in second_page.content.decode()

    response = logged_in.post("/device", {"allow": "1", "shown": first_page.context["shown"]})

    assert 'data-result="allowed"' in response.content.decode()
    assert DeviceGrant.objects.get(application=device_client).status == DeviceGrant.AUTHORIZED
    assert DeviceGrant.objects.get(application=other).status == DeviceGrant.AUTHORIZATION_PENDING
    assert problem_of(logged_in.post("/device", {"allow": "1"})) == "unknown"  # a form naming no page
    assert poll(Client(), other, second["device_code"]).json()["error"] == "authorization_pending"


def test_disconnecting_the_app_before_the_device_collects_its_tokens_denies_them(
    logged_in, started, device_client
):
    """A person who approved a phished code and disconnects the app at once stops the device (F2)."""
    page = enter(logged_in, started["user_code"])
    logged_in.post("/device", {"allow": "1", "shown": page.context["shown"]})

    assert logged_in.post(f"/account/apps/{device_client.pk}/revoke").status_code == 302

    response = poll(Client(), device_client, started["device_code"])
    assert (response.status_code, response.json()["error"]) == (400, "access_denied")
    assert DeviceGrant.objects.get().status == DeviceGrant.DENIED


def test_a_password_change_denies_an_approved_grant_not_yet_collected(
    logged_in, started, device_client, user
):
    page = enter(logged_in, started["user_code"])
    logged_in.post("/device", {"allow": "1", "shown": page.context["shown"]})

    user.set_password("a brand new password 4567")
    user.save()

    assert poll(Client(), device_client, started["device_code"]).json()["error"] == "access_denied"

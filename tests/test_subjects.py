"""``sub``: public by default, pairwise per sector (OIDC Core §8.1), and the same at every endpoint."""

import pytest
from django.core.exceptions import ValidationError

from idp.models import PairwiseSubject, Subject
from idp.subjects import settle_sector, sub_for, user_for_sub
from tests.conftest import authorize, basic_auth, exchange, query_of, verify_id_token
from tests.factories import ApplicationFactory, ServiceClientFactory, UserFactory

pytestmark = pytest.mark.django_db


def pairwise(client_id: str, sector: str = ""):
    return ApplicationFactory(client_id=client_id, subject_type="pairwise", sector_identifier=sector)


def subs_seen_by(browser, app) -> dict[str, str]:
    """The ``sub`` the client ``app`` is told by each endpoint, after one sign-in through HTTP."""
    authz = authorize(browser, app, scope="openid profile email", prompt="consent")
    tokens = exchange(browser, app, authz).json()
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {tokens['access_token']}"}
    introspected = browser.post(
        "/introspect", {"token": tokens["access_token"]}, HTTP_AUTHORIZATION=basic_auth(app.client_id)
    )
    return {
        "id_token": verify_id_token(browser, tokens["id_token"])["sub"],
        "userinfo": browser.get("/userinfo", **bearer).json()["sub"],
        "introspection": introspected.json()["sub"],
        "api": browser.get("/api/v1/me", **bearer).json()["sub"],
    }


def the_one_sub(seen: dict[str, str]) -> str:
    assert len(set(seen.values())) == 1, seen
    return next(iter(seen.values()))


def test_every_endpoint_states_one_public_sub_never_the_pk_username_or_email(logged_in, web_client, user):
    sub = the_one_sub(subs_seen_by(logged_in, web_client))
    assert sub == Subject.objects.get(user=user).value
    assert sub not in {str(user.pk), user.username, user.email}


def test_two_public_clients_see_the_same_sub(logged_in, web_client, other_client):
    assert the_one_sub(subs_seen_by(logged_in, web_client)) == the_one_sub(
        subs_seen_by(logged_in, other_client)
    )


def test_pairwise_clients_of_different_sectors_see_different_subs(logged_in, web_client, user):
    shop = the_one_sub(subs_seen_by(logged_in, pairwise("shop", "shop.example")))
    forum = the_one_sub(subs_seen_by(logged_in, pairwise("forum", "forum.example")))
    public = the_one_sub(subs_seen_by(logged_in, web_client))
    assert len({shop, forum, public}) == 3
    assert set(PairwiseSubject.objects.filter(user=user).values_list("sector", "value")) == {
        ("shop.example", shop),
        ("forum.example", forum),
    }


def test_pairwise_clients_of_one_sector_see_the_same_sub(logged_in):
    # One names its sector; the other's is the host of its redirect URIs (rp.example.com).
    named = the_one_sub(subs_seen_by(logged_in, pairwise("rp-web", "rp.example.com")))
    derived = the_one_sub(subs_seen_by(logged_in, pairwise("rp-app")))
    assert named == derived


def test_a_pairwise_sub_stays_the_same_on_the_next_sign_in(logged_in):
    shop = pairwise("shop", "shop.example")
    assert the_one_sub(subs_seen_by(logged_in, shop)) == the_one_sub(subs_seen_by(logged_in, shop))


def test_a_pairwise_id_token_hint_names_the_signed_in_person(logged_in):
    shop = pairwise("shop", "shop.example")
    tokens = exchange(logged_in, shop, authorize(logged_in, shop, prompt="consent")).json()
    authz = authorize(logged_in, shop, id_token_hint=tokens["id_token"], prompt="none")
    assert authz.code  # the same person: answered silently, not sent to sign in again
    someone_else = exchange(logged_in, shop, authorize(logged_in, shop)).json()["id_token"]
    logged_in.force_login(UserFactory(username="bob"))
    response = logged_in.get(
        "/authorize",
        {
            "response_type": "code",
            "client_id": "shop",
            "redirect_uri": authz.redirect_uri,
            "scope": "openid",
            "id_token_hint": someone_else,
            "prompt": "none",
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "code_challenge_method": "S256",
        },
    )
    assert query_of(response["Location"])["error"] == "login_required"


def test_rp_initiated_logout_accepts_a_pairwise_clients_id_token_hint(logged_in):
    shop = pairwise("shop", "shop.example")
    tokens = exchange(logged_in, shop, authorize(logged_in, shop, prompt="consent")).json()
    response = logged_in.get(
        "/end-session",
        {
            "id_token_hint": tokens["id_token"],
            "post_logout_redirect_uri": "https://rp.example.com/logged-out",
        },
    )
    assert response.status_code == 302 and "_auth_user_id" not in logged_in.session


def test_the_directory_names_people_by_the_sub_the_service_sees(client, user):
    from tests.test_api import service_token

    service = ServiceClientFactory(client_id="dir", allowed_scopes="users:read", subject_type="pairwise")
    token = service_token(client, service)
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    (listed,) = client.get("/api/v1/users", **bearer).json()["results"]
    assert listed["sub"] == sub_for(user, service) != sub_for(user, None)
    assert client.get(f"/api/v1/users/{listed['sub']}", **bearer).json()["username"] == "alice"
    public = client.get(f"/api/v1/users/{sub_for(user, None)}", **bearer)
    assert public.status_code == 404  # the public value names nobody to a pairwise client


def test_user_for_sub_reads_back_only_the_value_that_client_sees(user, web_client):
    shop, forum = pairwise("shop", "shop.example"), pairwise("forum", "forum.example")
    assert user_for_sub(sub_for(user, shop), shop) == user
    assert user_for_sub(sub_for(user, shop), forum) is None
    assert user_for_sub(sub_for(user, web_client), web_client) == user
    assert user_for_sub(sub_for(user, web_client), shop) is None
    assert user_for_sub("\x00", web_client) is None


def test_signing_in_makes_the_sub_so_the_token_endpoint_only_reads_it(client, user):
    assert not Subject.objects.filter(user=user).exists()
    client.force_login(user)
    assert Subject.objects.filter(user=user).count() == 1


def test_a_pairwise_clients_sector_is_fixed_from_its_single_redirect_host():
    app = ApplicationFactory.build(
        subject_type="pairwise", redirect_uris="https://a.example/cb https://a.example/other"
    )
    settle_sector(app)
    assert app.sector_identifier == "a.example"
    app = ApplicationFactory.build(
        subject_type="pairwise", redirect_uris="https://a.example/cb https://b.example/cb"
    )
    with pytest.raises(ValidationError) as raised:
        settle_sector(app)
    assert "sector_identifier" in raised.value.message_dict
    app.sector_identifier = "example"
    settle_sector(app)
    assert app.sector_identifier == "example"


def test_a_person_from_before_idp_was_installed_signs_in_to_a_client_at_once(web_client):
    """A site's existing people have no subject row: signing in through a relying party's request
    (the password form, not a forced login) makes one, and every endpoint states it."""
    from django.test import Client

    from tests.factories import PASSWORD

    person = UserFactory(username="early-bird")
    Subject.objects.filter(user=person).delete()  # as if made before idp's tables existed
    browser = Client()
    page = browser.post("/login", {"username": "early-bird", "password": PASSWORD})
    assert page.status_code == 302, page.content
    sub = the_one_sub(subs_seen_by(browser, web_client))
    assert sub == Subject.objects.get(user=person).value

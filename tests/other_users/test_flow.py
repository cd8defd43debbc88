"""Sign-in, consent, tokens, userinfo, refresh, the API and logout with a site's own user model.

Run under ``tests.other_users.settings_<auth|email|uuid>`` (tests/test_user_models.py does that, in a
process of its own): skipped under this repository's settings, whose user model is ``accounts.User``.
"""

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from idp.clients import create_client
from idp.subjects import sub_for
from tests.conftest import REDIRECT_URI, authorize, basic_auth, exchange, verify_id_token
from tests.factories import CLIENT_SECRET

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(settings.AUTH_USER_MODEL == "accounts.User", reason="a site's own user model only"),
]

PASSWORD = "a person's own password 123"


@pytest.fixture
def person(db):
    User = get_user_model()
    values = {User.USERNAME_FIELD: "alice@example.com" if User.USERNAME_FIELD == "email" else "alice"}
    if User.USERNAME_FIELD != "email":
        values.update(email="alice@example.com", first_name="Alice", last_name="Liddell")
    return User.objects.create_user(password=PASSWORD, **values)


@pytest.fixture
def shop(db):
    client, _ = create_client(
        kind="web",
        name="Shop",
        client_id="shop",
        client_secret=CLIENT_SECRET,
        redirect_uris=[REDIRECT_URI],
        post_logout_redirect_uris=["https://rp.example.com/logged-out"],
        allowed_scopes=["openid", "profile", "email", "offline_access"],
    )
    return client


def test_a_person_of_the_sites_user_model_signs_in_to_a_relying_party(client, person, shop):
    signed_in = client.post("/login", {"username": "alice@example.com", "password": PASSWORD})
    assert signed_in.status_code == 302 and client.session["_auth_user_id"] == str(person.pk)

    authz = authorize(client, shop, scope="openid profile email offline_access", prompt="consent")
    tokens = exchange(client, shop, authz).json()
    claims = verify_id_token(client, tokens["id_token"])
    sub = sub_for(person, shop)
    assert claims["sub"] == sub and claims["aud"] == "shop"
    assert sub not in {str(person.pk), person.get_username()}

    bearer = {"HTTP_AUTHORIZATION": f"Bearer {tokens['access_token']}"}
    userinfo = client.get("/userinfo", **bearer).json()
    if get_user_model().USERNAME_FIELD == "email":
        assert userinfo == {"sub": sub, "email": "alice@example.com"}  # nothing else to back
    else:
        assert userinfo == {
            "sub": sub,
            "name": "Alice Liddell",
            "given_name": "Alice",
            "family_name": "Liddell",
            "preferred_username": "alice",
            "email": "alice@example.com",
        }  # and never email_verified: nothing says it was verified
    assert client.get("/api/v1/me", **bearer).json()["sub"] == sub

    # The remembered consent answers the next request silently (the consent lookup takes any pk).
    again = client.get("/authorize", {**dict(authz_params(shop)), "prompt": "none"})
    assert again.status_code == 302 and "code=" in again["Location"]

    refreshed = client.post(
        "/token",
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        HTTP_AUTHORIZATION=basic_auth("shop"),
    ).json()
    assert verify_id_token(client, refreshed["id_token"])["sub"] == sub

    logout = client.get(
        "/end-session",
        {
            "id_token_hint": tokens["id_token"],
            "post_logout_redirect_uri": "https://rp.example.com/logged-out",
        },
    )
    assert logout.status_code == 302 and "_auth_user_id" not in client.session


def test_the_directory_lists_the_sites_people_for_a_service(client, person):
    service, _ = create_client(
        kind="service",
        name="Directory",
        client_id="dir",
        client_secret=CLIENT_SECRET,
        allowed_scopes=["users:read"],
    )
    token = client.post(
        "/token",
        {"grant_type": "client_credentials", "scope": "users:read"},
        HTTP_AUTHORIZATION=basic_auth("dir"),
    ).json()["access_token"]
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    (listed,) = client.get("/api/v1/users", **bearer).json()["results"]
    assert listed["sub"] == sub_for(person, service) and listed["username"] == person.get_username()
    found = client.get("/api/v1/users", {"username": person.get_username()}, **bearer).json()["results"]
    assert [row["sub"] for row in found] == [listed["sub"]]
    assert client.get(f"/api/v1/users/{listed['sub']}", **bearer).json()["username"] == person.get_username()


def authz_params(app) -> dict[str, str]:
    from oidc_selftest.pkce import pkce_pair
    from tests.conftest import authorize_params

    _verifier, challenge = pkce_pair()
    return authorize_params(app, challenge=challenge)

"""Sign-in by username or email, errors that reveal nothing, safe ``next``, lockout, password reset."""

import re

import pytest
from django.core import mail

from tests.conftest import authorize_params, pkce_pair
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def sign_in(client, username, password=PASSWORD, next=None, **meta):
    data = {"username": username, "password": password}
    if next is not None:
        data["next"] = next
    return client.post("/login", data, **meta)


def test_sign_in_with_username(client, user):
    response = sign_in(client, "alice")
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.session["_auth_user_id"] == str(user.pk)


def test_sign_in_with_email_in_any_case(client, user):
    response = sign_in(client, "Alice@Example.com")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_email_shared_by_two_accounts_does_not_sign_in(client, user):
    UserFactory(username="alice2", email="alice@example.com")
    response = sign_in(client, "alice@example.com")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_wrong_password_and_unknown_account_get_the_same_message(client, user):
    wrong_password = sign_in(client, "alice", "not-the-password")
    unknown = sign_in(client, "nobody-here", "not-the-password")
    assert wrong_password.status_code == unknown.status_code == 200
    message = b"That username or email and password do not match"
    assert message in wrong_password.content and message in unknown.content
    inactive = UserFactory(username="sleepy", is_active=False)
    assert message in sign_in(client, inactive.username).content


@pytest.mark.parametrize(
    "next_url", ["https://evil.example/steal", "//evil.example/steal", "http://testserver.evil.example/"]
)
def test_next_to_another_site_is_ignored(client, user, next_url):
    page = client.get("/login", {"next": next_url})
    assert b"evil.example" not in page.content
    response = sign_in(client, "alice", next=next_url)
    assert response.status_code == 302 and response["Location"] == "/"


def test_next_on_this_site_is_followed(client, user):
    response = sign_in(client, "alice", next="/account/apps")
    assert response["Location"] == "/account/apps"


def test_login_hint_prefills_and_names_the_client(client, web_client):
    web_client.name = "Wonderland Tea"
    web_client.save()
    params = authorize_params(web_client, challenge=pkce_pair()[1], login_hint="alice@example.com")
    login_page = client.get(client.get("/authorize", params)["Location"])
    assert b'value="alice@example.com"' in login_page.content
    assert b"to continue to <strong>Wonderland Tea</strong>" in login_page.content


def test_lockout_by_account_after_five_failures_even_with_the_right_password(client, user, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "alice", "wrong", REMOTE_ADDR="192.0.2.1")
    # The same account from another address, now with the right password, via its email address.
    response = client.post(
        "/login", {"username": "alice@example.com", "password": PASSWORD}, REMOTE_ADDR="198.51.100.7"
    )
    assert response.status_code == 429
    assert b"Too many sign-in attempts" in response.content
    assert b"Please wait 15 minutes, then try again." in response.content
    assert "_auth_user_id" not in client.session


def test_lockout_by_address_spans_accounts(client, user, settings):
    for number in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, f"guess{number}", "wrong", REMOTE_ADDR="192.0.2.2")
    response = client.post("/login", {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="192.0.2.2")
    assert response.status_code == 429
    # Another address may still sign in to the account.
    response = client.post("/login", {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="192.0.2.3")
    assert response.status_code == 302


def test_admin_unlock_by_deleting_the_attempts(client, user, settings):
    from axes.models import AccessAttempt

    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "alice", "wrong")
    assert sign_in(client, "alice").status_code == 429
    AccessAttempt.objects.all().delete()  # what the admin's "delete" action does
    assert sign_in(client, "alice").status_code == 302


def test_password_reset_sends_a_link_to_the_issuer_and_it_works(client, user):
    response = client.post("/password-reset", {"email": "alice@example.com"}, HTTP_HOST="testserver")
    assert response.status_code == 302 and response["Location"] == "/password-reset/sent"
    (message,) = mail.outbox
    assert message.to == ["alice@example.com"]
    assert "Django IdP" in message.subject
    link = re.search(r"http://127\.0\.0\.1:8000(/password-reset/\S+)", message.body).group(1)
    form_page = client.get(link, follow=True)
    assert b"Choose a new password" in form_page.content
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a brand new long passphrase", "new_password2": "a brand new long passphrase"},
    )
    assert response["Location"] == "/password-reset/done"
    user.refresh_from_db()
    assert user.check_password("a brand new long passphrase")
    assert user.password.startswith("argon2")


def test_password_reset_for_an_unknown_address_looks_the_same_and_sends_nothing(client, user):
    response = client.post("/password-reset", {"email": "nobody@example.com"})
    assert response.status_code == 302 and response["Location"] == "/password-reset/sent"
    assert mail.outbox == []


def test_used_reset_link_says_so(client):
    page = client.get("/password-reset/MQ/bad-token")
    assert b"This link no longer works" in page.content


def ask_for_reset(client, email: str, address: str = "192.0.2.10"):
    return client.post("/password-reset", {"email": email}, REMOTE_ADDR=address)


def test_password_reset_emails_per_address_are_limited_with_the_same_answer(client, user, settings):
    assert settings.IDP.get("PASSWORD_RESET_RATES") is None  # the documented default: 3/hour per email
    answers = [ask_for_reset(client, "alice@example.com", f"192.0.2.{n}") for n in range(1, 5)]
    assert len(mail.outbox) == 3
    assert {(a.status_code, a["Location"]) for a in answers} == {(302, "/password-reset/sent")}
    ask_for_reset(client, "ALICE@example.com ", "192.0.2.99")  # the same address, however typed
    assert len(mail.outbox) == 3
    page = client.get(answers[-1]["Location"])
    assert page.status_code == 200 and "alice@example.com" not in page.content.decode()


def test_password_reset_requests_per_client_address_are_limited(client, settings):
    settings.IDP = {**settings.IDP, "PASSWORD_RESET_RATES": {"email": "3/hour", "address": "2/hour"}}
    for number in range(3):
        UserFactory(username=f"person{number}", email=f"person{number}@example.com")
    answers = [ask_for_reset(client, f"person{number}@example.com") for number in range(3)]
    assert [message.to for message in mail.outbox] == [["person0@example.com"], ["person1@example.com"]]
    assert answers[2].status_code == 302 and answers[2]["Location"] == "/password-reset/sent"
    ask_for_reset(client, "person2@example.com", address="192.0.2.11")  # another client address
    assert len(mail.outbox) == 3


def test_password_reset_limit_counts_the_address_the_trusted_proxy_saw(client, settings):
    settings.IDP = {
        **settings.IDP, "TRUSTED_PROXIES": 1, "PASSWORD_RESET_RATES": {"email": None, "address": "1/hour"},
    }  # fmt: skip
    UserFactory(username="bob", email="bob@example.com")
    for forwarded in ("198.51.100.1", "198.51.100.2", "198.51.100.2"):
        client.post("/password-reset", {"email": "bob@example.com"}, HTTP_X_FORWARDED_FOR=forwarded)
    assert len(mail.outbox) == 2


def test_password_reset_limit_counts_unicode_spellings_of_one_address_together(client, settings):
    # On PostgreSQL UPPER() of the long s U+017F is 'S', and Django's form compares NFKC case folds:
    # every spelling below reaches sam@example.com.
    settings.IDP = {**settings.IDP, "PASSWORD_RESET_RATES": {"email": "1/hour", "address": None}}
    UserFactory(username="sam", email="sam@example.com")
    for spelling in ("sam@example.com", "\u017fam@example.com", "SAM@example.com", "\uff53am@example.com"):
        ask_for_reset(client, spelling)
    assert [message.to for message in mail.outbox] == [["sam@example.com"]]

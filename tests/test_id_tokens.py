"""Reading ID tokens we issued: only the exact compact serialization we signed counts."""

import pytest

from idp.id_tokens import verified_claims
from idp.subjects import sub_for

pytestmark = pytest.mark.django_db


def test_a_genuine_id_token_is_read(tokens, user):
    assert verified_claims(tokens["id_token"])["sub"] == sub_for(user, None)


@pytest.mark.parametrize("junk", ["\x7f\x7f", "!", " ", "=", "\n"])
def test_junk_inserted_into_a_genuine_token_is_refused(tokens, junk):
    header, payload, signature = tokens["id_token"].split(".")
    # Python's base64 skips characters outside the alphabet: without the check, this read as genuine.
    tampered = f"{header}.{payload[:10]}{junk}{payload[10:]}.{signature}"
    assert verified_claims(tampered) is None


def test_a_post_logout_redirect_needs_the_hint_exactly_as_issued(logged_in, tokens):
    header, payload, signature = tokens["id_token"].split(".")
    response = logged_in.get(
        "/end-session",
        {
            "id_token_hint": f"{header}.{payload[:5]}\x7f{payload[5:]}.{signature}",
            "post_logout_redirect_uri": "https://rp.example.com/logged-out",
        },
    )
    assert response.status_code == 400
    assert "Location" not in response

"""The explorer's masking: every secret shortened for display; passwords, cookies, CSRF tokens never shown."""

import base64
import json

from idp.explorer.masking import mask_value, masked, scrubbed, secret_values
from tests.explorer_samples import (
    ACCESS_TOKEN,
    CLIENT_ID,
    CLIENT_SECRET,
    CODE,
    CSRF_TOKEN,
    FORM,
    JSON,
    PASSWORD,
    REFRESH_TOKEN,
    STATE,
    VERIFIER,
    exchange,
    web_run,
)


def by_seq(run, seq):
    return next(item for item in run if item.seq == seq)


def test_a_masked_value_keeps_its_first_six_characters_and_says_its_length():
    assert mask_value("abc123" + "x" * 37) == "abc123… [masked, 43 characters]"


def test_a_short_value_shows_none_of_itself():
    assert mask_value("hunter2") == "… [masked, 7 characters]"
    assert mask_value("x") == "… [masked, 1 character]"


def test_the_token_request_masks_code_verifier_and_the_basic_secret_but_keeps_the_rest():
    token_request = masked(by_seq(web_run(), 6))
    body = token_request.request.body
    assert f"code={mask_value(CODE)}" in body
    assert f"code_verifier={mask_value(VERIFIER)}" in body
    assert "grant_type=authorization_code" in body and "redirect_uri=https%3A%2F%2Fidp.example.com" in body
    headers = dict(token_request.request.headers)
    assert headers["Authorization"] == f"Basic base64({CLIENT_ID}:{mask_value(CLIENT_SECRET)})"
    assert headers["Accept"] == "application/json"
    for secret in (CODE, VERIFIER, CLIENT_SECRET):
        assert secret not in repr(token_request)


def test_tokens_in_a_json_answer_are_masked_and_the_other_members_kept():
    answer = json.loads(masked(by_seq(web_run(), 6)).response.body)
    assert answer["access_token"] == mask_value(ACCESS_TOKEN)
    assert answer["refresh_token"] == mask_value(REFRESH_TOKEN)
    assert answer["id_token"].startswith("eyJ") and answer["id_token"].endswith(" characters]")
    assert (
        answer["token_type"] == "Bearer"
        and answer["expires_in"] == 3600
        and answer["scope"] == "openid profile"
    )


def test_the_code_is_masked_in_the_callback_url_and_in_the_redirect_that_carries_it():
    run = web_run()
    callback, consent = masked(by_seq(run, 5)), masked(by_seq(run, 4))
    assert f"code={mask_value(CODE)}&state={STATE}&iss=https%3A%2F%2Fidp.example.com" in callback.request.url
    assert f"code={mask_value(CODE)}" in dict(consent.response.headers)["Location"]
    assert CODE not in repr(callback) + repr(consent)


def test_a_bearer_token_is_masked_and_named_as_bearer():
    userinfo = masked(by_seq(web_run(), 8))
    assert dict(userinfo.request.headers)["Authorization"] == f"Bearer {mask_value(ACCESS_TOKEN)}"


def test_tokens_in_a_fragment_and_nested_json_are_masked():
    item = exchange(
        1,
        "api_call",
        "rp",
        "api",
        "POST",
        "https://idp.example.com/api/v1/x",
        302,
        headers=[JSON],
        body=json.dumps({"outer": {"refresh_token": REFRESH_TOKEN}, "list": [{"token": ACCESS_TOKEN}]}),
        response_headers=[
            ("Location", f"https://rp.example.com/cb#access_token={ACCESS_TOKEN}&state={STATE}")
        ],
    )
    shown = masked(item)
    assert ACCESS_TOKEN not in repr(shown) and REFRESH_TOKEN not in repr(shown)
    assert (
        f"#access_token={mask_value(ACCESS_TOKEN)}&state={STATE}" in dict(shown.response.headers)["Location"]
    )
    assert json.loads(shown.request.body)["outer"]["refresh_token"] == mask_value(REFRESH_TOKEN)


def test_passwords_csrf_tokens_and_cookies_never_show_even_when_revealed():
    sign_in = by_seq(web_run(), 3)
    for shown in (masked(sign_in), scrubbed(sign_in)):
        text = repr(shown)
        assert PASSWORD not in text and CSRF_TOKEN not in text and "sessionid" not in text
        assert "password=[not recorded]" in shown.request.body and "username=alice" in shown.request.body
        assert not {"cookie", "set-cookie"} & {name.lower() for name, _value in shown.request.headers}
        assert not {"cookie", "set-cookie"} & {name.lower() for name, _value in shown.response.headers}


def test_revealed_secrets_are_shown_in_full():
    token_request = scrubbed(by_seq(web_run(), 6))
    assert f"code={CODE}" in token_request.request.body
    assert json.loads(token_request.response.body)["access_token"] == ACCESS_TOKEN
    assert dict(token_request.request.headers)["Authorization"].startswith("Basic ")


def test_the_record_itself_is_left_as_it_was():
    original = by_seq(web_run(), 6)
    masked(original)
    assert f"code={CODE}" in original.request.body


def test_basic_credentials_that_are_not_base64_are_masked_whole():
    item = exchange(
        1,
        "token_request",
        "rp",
        "token",
        "POST",
        "https://idp.example.com/token",
        401,
        headers=[("Authorization", "Basic not%base64!" + "x" * 20), FORM],
    )
    assert dict(masked(item).request.headers)["Authorization"] == "Basic " + mask_value(
        "not%base64!" + "x" * 20
    )
    encoded = base64.b64encode(b"no-colon-in-here-at-all").decode()
    item = exchange(
        1,
        "token_request",
        "rp",
        "token",
        "POST",
        "https://idp.example.com/token",
        401,
        headers=[("Authorization", f"Basic {encoded}"), FORM],
    )
    assert dict(masked(item).request.headers)["Authorization"] == f"Basic {mask_value(encoded)}"


def test_bodies_that_are_not_form_or_json_are_left_alone():
    item = exchange(
        1,
        "authorization_response",
        "browser",
        "rp",
        "GET",
        "https://idp.example.com/cb",
        200,
        headers=[JSON],
        body="{not json",
        response_headers=[("Content-Type", "text/html")],
        response_body="[HTML page: Sign in]",
    )
    shown = masked(item)
    assert shown.request.body == "{not json" and shown.response.body == "[HTML page: Sign in]"


def test_secret_values_lists_every_secret_the_record_holds():
    found = set().union(*(secret_values(item) for item in web_run()))
    assert {CODE, VERIFIER, CLIENT_SECRET, ACCESS_TOKEN, REFRESH_TOKEN} <= found
    assert STATE not in found and CLIENT_ID not in found

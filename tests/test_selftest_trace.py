"""``--trace`` prints no secret however the provider spells it (security review findings 4 and 5): every
cookie a response sets, URL fragments, form_post pages' hidden inputs, token JSON under another content
type, and known secrets in the spelling they were sent in."""

from __future__ import annotations

from oidc_selftest.trace import MASK, mask_body, mask_header, mask_url
from tests.selftest_stub import Answer, page, stub_op

SESSION_ID = "live-session-id-0123456789"
CSRF_TOKEN = "csrf-token-value-abcdefgh"
CODE = "authorization-code-314159"
ACCESS_TOKEN = "access-token-value-271828"


def traced(answer: Answer, **config: object) -> str:
    """What ``--trace`` prints for one GET answered with ``answer``."""
    lines: list[str] = []
    with stub_op() as stub:
        stub.routes["/page"] = lambda seen: answer
        ctx = stub.context(trace=lines.append, **config)
        ctx.http("GET", f"{stub.url}/page")
    return "".join(lines)


# --- finding 4: every cookie's value ------------------------------------------------------------------


def test_every_cookie_a_response_sets_is_masked_and_its_attributes_stay_readable():
    # As our login POST answers: the CSRF cookie first, then the session cookie.
    trace = traced(
        Answer(
            status=302,
            headers={
                "Location": "/next",
                "Set-Cookie": [
                    f"csrftoken={CSRF_TOKEN}; expires=Wed, 21 Oct 2037 07:28:00 GMT; Path=/",
                    f"sessionid={SESSION_ID}; expires=Thu, 22 Oct 2037 07:28:00 GMT; HttpOnly; Path=/",
                ],
            },
        )
    )
    assert SESSION_ID not in trace
    assert CSRF_TOKEN not in trace
    assert f"Set-Cookie: csrftoken={MASK}; expires=Wed, 21 Oct 2037 07:28:00 GMT;" in trace
    assert f"Set-Cookie: sessionid={MASK}; expires=Thu, 22 Oct 2037 07:28:00 GMT; HttpOnly; Path=/" in trace


def test_set_cookie_values_joined_with_commas_are_each_masked():
    """``requests`` joins repeated headers with ", ", and Expires dates contain ", " too."""
    joined = (
        f"csrftoken={CSRF_TOKEN}; expires=Wed, 21 Oct 2037 07:28:00 GMT; Path=/, "
        f"sessionid={SESSION_ID}; HttpOnly; Path=/,theme=dark"
    )
    assert mask_header("Set-Cookie", joined) == (
        f"csrftoken={MASK}; expires=Wed, 21 Oct 2037 07:28:00 GMT; Path=/, "
        f"sessionid={MASK}; HttpOnly; Path=/,theme={MASK}"
    )


# --- finding 5: fragments, hidden inputs, JSON under any content type, spellings ------------------------


def test_secret_parameters_in_a_url_fragment_are_masked():
    masked = mask_url(f"http://rp.example/cb#code={CODE}&state=s1")
    assert CODE not in masked
    assert masked == f"http://rp.example/cb#code={MASK}&state=s1"
    assert mask_url("http://rp.example/docs#section-2") == "http://rp.example/docs#section-2"
    trace = traced(
        Answer(status=302, headers={"Location": f"http://rp.example/cb#access_token={ACCESS_TOKEN}"})
    )
    assert ACCESS_TOKEN not in trace
    assert f"Location: http://rp.example/cb#access_token={MASK}" in trace


def test_hidden_inputs_of_a_form_post_page_are_masked_in_any_attribute_order():
    form_post = (
        '<form method="post" action="http://rp.example/cb">'
        f'<input type="hidden" name="code" value="{CODE}">'
        f"<input value='{ACCESS_TOKEN}' type=hidden name='access_token'/>"
        f"<input name=id_token type=hidden value=opaque-id-token-161803 >"
        '<input type="hidden" name="state" value="state-stays-readable">'
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{CSRF_TOKEN}">'
        "</form>"
    )
    trace = traced(page(form_post))
    for secret in (CODE, ACCESS_TOKEN, "opaque-id-token-161803", CSRF_TOKEN):
        assert secret not in trace
    assert f'name="code" value="{MASK}"' in trace
    assert f"<input value='{MASK}' type=hidden name='access_token'/>" in trace
    assert 'value="state-stays-readable"' in trace


def test_token_json_served_as_another_content_type_is_masked():
    body = f'{{"access_token": "{ACCESS_TOKEN}", "token_type": "Bearer"}}'
    trace = traced(Answer(body=body, headers={"Content-Type": "text/plain"}))
    assert ACCESS_TOKEN not in trace
    assert '"token_type": "Bearer"' in trace
    assert mask_body("{not json", "text/plain") == "{not json"


def test_a_known_secret_keeps_the_spelling_it_was_sent_in_and_is_masked():
    """A password under a parameter name that is not a secret one is found by its value, which must not
    be decoded and encoded again into a spelling the known-secret masking does not try."""
    password = "a b[c]&d"
    lines: list[str] = []
    with stub_op() as stub:
        stub.routes["/login"] = lambda seen: page("ok")
        ctx = stub.context(password=password, trace=lines.append)
        ctx.http("POST", f"{stub.url}/login", data=[("user", "alice"), ("pass", password)])
        ctx.http("GET", f"{stub.url}/login", params={"hint": password})
    trace = "".join(lines)
    for spelling in (password, "a+b[c]", "a+b%5Bc%5D", "a%20b%5Bc%5D", "a+b[c]%26d"):
        assert spelling not in trace
    assert "user=alice&pass=" in trace


def test_a_known_secret_echoed_in_html_or_json_is_masked():
    password = "pässword with spaces&more"
    html_echo = traced(page(f"<p>You typed {password.replace('&', '&amp;')}</p>"), password=password)
    json_echo = traced(
        Answer(body=f'{{"error_description": "bad {password}"}}', headers={"Content-Type": "text/plain"}),
        password=password,
    )
    for trace in (html_echo, json_echo):
        assert "pässword" not in trace
        assert "p\\u00e4ssword" not in trace

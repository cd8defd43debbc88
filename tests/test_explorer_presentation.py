"""The explorer's partials rendered from hand-built runs: the diagram's arrows, masking, tokens, exports."""

from dataclasses import replace
from html.parser import HTMLParser

import pytest
from django.template.loader import render_to_string

from idp.explorer.glossary import BREAKS, ERRORS, STEPS
from idp.explorer.masking import mask_value, secret_values
from idp.explorer.presentation import diagram_context, exports_context, tokens_context
from tests import explorer_samples as samples

RUN_OF = {"issuer": samples.ISSUER, "client_id": samples.CLIENT_ID}


class Elements(HTMLParser):
    """Every start tag's attributes, in document order, with the tag name under ``tag``."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.found: list[dict[str, str]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.found.append({"tag": tag, **{name: value or "" for name, value in attrs}})

    def having(self, css_class: str) -> list[dict[str, str]]:
        return [element for element in self.found if css_class in element.get("class", "").split()]


def diagram(run, *, reveal=False, **options) -> str:
    return render_to_string("idp/explorer/_diagram.html", diagram_context(run, reveal=reveal, **options))


def tokens(run, *, reveal=False, **options) -> str:
    context = tokens_context(run, **RUN_OF, nonce=samples.NONCE, reveal=reveal, **options)
    return render_to_string("idp/explorer/_tokens.html", context)


@pytest.fixture(scope="module")
def key():
    return samples.signing_key("ES256")


def test_one_arrow_per_exchange_in_seq_order_with_its_columns_direction_and_status(key):
    run = samples.web_run(key)
    html = diagram(list(reversed(run)))
    messages = Elements(html).having("message")
    assert [message["id"] for message in messages] == [f"message-{seq}" for seq in range(1, 9)]
    assert [message["class"] for message in messages] == [
        "message from-1 to-2 ltr status-3xx",  # browser -> relying party: the redirect to /authorize
        "message from-1 to-3 ltr status-3xx",
        "message from-1 to-3 ltr status-3xx",
        "message from-1 to-3 ltr status-3xx",
        "message from-1 to-2 ltr status-2xx",  # the callback
        "message from-2 to-4 ltr status-2xx",  # relying party -> token endpoint
        "message from-2 to-5 ltr status-2xx",
        "message from-2 to-6 ltr status-2xx",
    ]
    token_request = messages[5]
    assert {name: token_request[name] for name in token_request if name.startswith("data-")} == {
        "data-seq": "6",
        "data-step": "token_request",
        "data-source": "rp",
        "data-target": "token",
        "data-status": "200",
    }
    assert "6. POST /token" in html and "200 OK" in html and "Relying party → Token endpoint" in html


def test_the_lanes_are_those_used_in_lanes_order():
    html = diagram(samples.web_run())
    lanes = Elements(html).having("lane")
    assert [lane["class"] for lane in lanes] == [
        "lane lane-browser",
        "lane lane-rp",
        "lane lane-authorize",
        "lane lane-token",
        "lane lane-keys",
        "lane lane-userinfo",
    ]
    assert Elements(html).having("flow-diagram")[0]["class"] == "flow-diagram lanes-6"
    assert Elements(html).having("flow-diagram")[0]["aria-labelledby"] == "flow-diagram-title"
    assert 'id="flow-diagram-title"' in html


def test_an_arrow_pointing_left_is_rtl():
    answer = samples.exchange(1, "userinfo", "token", "rp", "POST", f"{samples.ISSUER}/x", 500)
    message = Elements(diagram([answer])).having("message")[0]
    assert message["class"] == "message from-2 to-1 rtl status-5xx"


def test_a_broken_message_says_what_was_broken_and_what_the_error_means(key):
    html = diagram(samples.web_run(key, broken_secret=True))
    broken = [message for message in Elements(html).having("message") if "data-broken" in message]
    assert [(message["id"], message["data-broken"], message["data-status"]) for message in broken] == [
        ("message-6", "wrong_secret", "401")
    ]
    assert "broken on purpose" in html and "Broken on purpose: Wrong client secret." in html
    assert BREAKS["wrong_secret"].how.replace("'", "&#x27;") in html
    assert "error=<code>invalid_client</code>" in html and "Client authentication failed." in html
    assert ERRORS["invalid_client"] in html
    assert "The explorer sent a wrong client secret, as asked." in html  # the exchange's notes


def test_each_message_says_why_its_step_exists_with_spec_links():
    html = diagram(samples.web_run())
    assert html.count('class="why"') == 8
    assert STEPS["token_request"].title in html
    assert 'href="https://www.rfc-editor.org/rfc/rfc7636.html#section-4.5"' in html
    assert 'href="https://openid.net/specs/openid-connect-core-1_0.html#AuthRequest"' in html


def test_requests_and_responses_are_shown_as_http_messages(key):
    html = diagram(samples.web_run(key))
    assert "POST /token HTTP/1.1\nHost: idp.example.com\n" in html
    assert "HTTP/1.1 200 OK\nContent-Type: application/json\nCache-Control: no-store\n\n{\n" in html
    assert "&quot;token_type&quot;: &quot;Bearer&quot;" in html  # indented JSON, escaped


def test_secrets_are_masked_by_default_and_shown_when_revealed(key):
    run = samples.web_run(key)
    secrets = set().union(*(secret_values(item) for item in run))
    masked_html, revealed = diagram(run), diagram(run, reveal=True)
    assert {samples.CODE, samples.VERIFIER, samples.CLIENT_SECRET, samples.ACCESS_TOKEN} <= secrets
    assert not [secret for secret in secrets if secret in masked_html]
    assert mask_value(samples.CODE) in masked_html
    assert f"base64({samples.CLIENT_ID}:{mask_value(samples.CLIENT_SECRET)})" in masked_html
    assert 'href="?reveal=1#flow-diagram"' in masked_html and "Reveal secrets" in masked_html
    assert samples.CODE in revealed and samples.ACCESS_TOKEN in revealed and samples.VERIFIER in revealed
    assert 'href="?#flow-diagram"' in revealed and "Hide secrets" in revealed


@pytest.mark.parametrize("reveal", [False, True])
def test_a_password_a_csrf_token_or_a_cookie_is_never_shown(reveal):
    html = diagram(samples.device_run() + samples.web_run(), reveal=reveal)
    for never in (samples.PASSWORD, samples.CSRF_TOKEN, "sessionid", "Set-Cookie"):
        assert never not in html
    assert "password=[not recorded]" in html


def test_recorded_text_is_escaped():
    hostile = samples.exchange(
        1, "api_call", "rp", "api", "GET", f"{samples.ISSUER}/api/<script>alert(1)</script>", 200,
        response_body="<img src=x onerror=alert(1)>", notes=["<b>bold</b>"],
    )  # fmt: skip
    html = diagram([hostile])
    assert "<script>" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_no_messages_and_no_reveal_control():
    assert "No messages yet" in diagram([])
    assert "Reveal secrets" not in diagram(samples.web_run(), reveal_control=False)


def test_the_id_token_is_verified_against_the_jwks_the_run_fetched(key):
    html = tokens(samples.web_run(key))
    checks = Elements(html).having("check")
    assert [(check["data-check"], check["data-ok"]) for check in checks] == [
        (name, "true") for name in ("signature", "iss", "aud", "azp", "exp", "iat", "nonce", "at_hash")
    ]
    article = Elements(html).having("token-id_token")[0]
    assert article["data-verified"] == "true" and article["id"] == "token-id_token"
    assert "The ES256 signature verifies with the JWKS&#x27;s public key test-key" in html
    assert "Who issued the token" in html  # a claim's meaning
    assert "&quot;alg&quot;: &quot;ES256&quot;" in html  # the header


def test_tokens_are_masked_unless_revealed(key):
    run = samples.web_run(key)
    id_token = next(value for value in secret_values(run[5]) if value.startswith("eyJ"))
    masked_html, revealed = tokens(run), tokens(run, reveal=True)
    assert id_token not in masked_html and samples.ACCESS_TOKEN not in masked_html
    assert (
        mask_value(samples.ACCESS_TOKEN) in masked_html and mask_value(samples.REFRESH_TOKEN) in masked_html
    )
    assert id_token in revealed and samples.ACCESS_TOKEN in revealed
    kinds = [element["class"] for element in Elements(masked_html).having("token")]
    assert kinds == [
        "token token-id_token token-jwt",
        "token token-access_token token-opaque",
        "token token-refresh_token token-opaque",
    ]


def test_a_jwks_given_is_used_instead_of_the_runs(key):
    other = samples.signing_key("ES256", kid="test-key")
    html = tokens(samples.web_run(key), jwks=samples.jwks_of(other))
    assert Elements(html).having("check-signature")[0]["data-ok"] == "false"


def test_the_last_token_answer_and_introspection_are_shown(key):
    html = tokens(samples.full_web_run(key))
    assert mask_value("second-" + samples.ACCESS_TOKEN) in html  # the refresh's answer, the last good one
    assert "token-id_token" not in html  # a refresh answer here carries no ID token
    assert "Introspection of the access token" in html
    assert "Whether the token is valid right now" in html


def test_no_tokens_yet():
    html = tokens(samples.web_run(broken_secret=True))
    assert "No tokens yet" in html and "token-id_token" not in html


def test_the_exports_partial_shows_both_texts_escaped_and_without_secrets(key):
    run = samples.full_web_run(key)
    html = render_to_string(
        "idp/explorer/_exports.html", exports_context(run, **RUN_OF, flow="web", confidential=True)
    )
    assert 'id="export-curl"' in html and 'id="export-mermaid"' in html
    assert "rp-&gt;&gt;token: POST /token" in html and "#!/usr/bin/env bash" in html
    assert not [secret for secret in set().union(*(secret_values(item) for item in run)) if secret in html]


def test_a_step_or_lane_outside_the_records_still_renders():
    odd = replace(samples.web_run()[0], step="unheard_of", source="elsewhere")
    html = diagram([odd])
    assert 'data-step="unheard_of"' in html and "lane lane-elsewhere" in html


def test_garbage_records_render_without_an_exception():
    html = (
        diagram(samples.garbage_run())
        + diagram(samples.garbage_run(), reveal=True)
        + tokens(samples.garbage_run())
    )
    html += render_to_string(
        "idp/explorer/_exports.html",
        exports_context(samples.garbage_run(), **RUN_OF, flow="\n$(x)", confidential=True),
    )
    assert html.count('class="message ') == 2 * len(samples.garbage_run())
    assert "status-5xx" in html  # status 0 and 999 are counted as server errors

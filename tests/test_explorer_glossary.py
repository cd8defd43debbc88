"""The explorer's glossary: every step, break, error code, claim and introspection member explained."""

import inspect
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from oauthlib.oauth2.rfc6749 import errors as oauth_errors
from oauthlib.oauth2.rfc8628 import errors as device_errors
from oauthlib.openid.connect.core import exceptions as oidc_errors
from rest_framework import exceptions as drf_exceptions

from idp.api.exceptions import ERROR_CODES
from idp.claims import SCOPES
from idp.discovery import ID_TOKEN_CLAIMS
from idp.explorer import glossary, records
from tests.conftest import basic_auth

IDP = Path(__file__).resolve().parent.parent / "idp"
# Where an error code appears literally: error="x" (also in a challenge), "error": "x", oauth_error("x".
# Two letters at least: segno's error="m" (a QR code's error correction level) is no OAuth error.
CODE = r"([a-z][a-z_]+)"
LITERAL_ERRORS = re.compile(
    rf"""\berror=\\?["']{CODE}\\?["']|["']error["']\s*:\s*["']{CODE}["']|oauth_error\(\s*["']{CODE}["']"""
)
RAISED_ERRORS = re.compile(r"\b(errors|device_errors|oidc_errors|exceptions)\.([A-Z][A-Za-z]+)\b")
ERROR_MODULES = {"errors": oauth_errors, "device_errors": device_errors, "oidc_errors": oidc_errors}


def all_links():
    for info in [*glossary.STEPS.values(), *glossary.BREAKS.values()]:
        yield from info.links


def error_codes_in_the_source() -> set[str]:
    """Every OAuth error code idp/ answers: literal codes, and the code of each oauthlib error it raises."""
    found = set()
    for path in IDP.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        text = path.read_text()
        found |= {code for match in LITERAL_ERRORS.finditer(text) for code in match.groups() if code}
        for module_name, class_name in RAISED_ERRORS.findall(text):
            for module in (
                [ERROR_MODULES[module_name]] if module_name in ERROR_MODULES else ERROR_MODULES.values()
            ):
                error = getattr(getattr(module, class_name, None), "error", None)
                if isinstance(error, str):
                    found.add(error)
    return found


def test_every_step_and_break_of_the_records_has_an_entry():
    assert set(glossary.STEPS) == set(records.STEPS)
    assert set(glossary.BREAKS) == set(records.BREAKS)
    for info in glossary.STEPS.values():
        assert info.title and info.why and info.protects and info.links
    for info in glossary.BREAKS.values():
        assert info.label and info.how and info.answer and info.links


@pytest.mark.parametrize("link", list(all_links()), ids=lambda link: link.label)
def test_every_spec_link_is_https_with_a_section_anchor(link):
    parts = urlsplit(link.url)
    assert parts.scheme == "https" and parts.netloc in {"www.rfc-editor.org", "openid.net"}
    assert parts.fragment
    if link.label.startswith("RFC "):
        number, section = re.fullmatch(r"RFC (\d+) §([\d.]+)", link.label).groups()
        assert link.url == f"https://www.rfc-editor.org/rfc/rfc{number}.html#section-{section}"


def test_the_steps_say_what_state_nonce_pkce_and_iss_protect_against():
    request, response = glossary.STEPS["authorization_request"], glossary.STEPS["authorization_response"]
    assert "forgery" in request.protects and "replayed ID token" in request.protects
    assert "PKCE" in request.protects and "mix-up" in response.protects
    assert {link.label for link in response.links} >= {"RFC 9207 §2", "RFC 9700 §4.4"}


def test_the_source_scan_finds_the_codes_it_should():
    # A guard on the scan below: it must see literal, raised and device-grant codes.
    assert {
        "invalid_target",
        "invalid_grant",
        "slow_down",
        "account_selection_required",
    } <= error_codes_in_the_source()


def test_every_error_code_the_provider_answers_has_a_meaning():
    codes = error_codes_in_the_source()
    codes |= {
        "request_not_supported",
        "request_uri_not_supported",
    }  # idp.authorization: f"{parameter}_not_supported"
    missing = sorted(code for code in codes if code not in glossary.ERRORS)
    assert missing == []


@pytest.mark.parametrize(
    "module", [oauth_errors, device_errors, oidc_errors], ids=lambda module: module.__name__
)
def test_every_oauthlib_error_code_has_a_meaning(module):
    codes = {
        cls.error
        for _name, cls in inspect.getmembers(module, inspect.isclass)
        if isinstance(getattr(cls, "error", None), str)
    }
    assert sorted(codes - glossary.ERRORS.keys()) == []


def test_every_api_error_code_has_a_meaning():
    codes = {
        ERROR_CODES.get(cls.default_code, cls.default_code)
        for _name, cls in inspect.getmembers(drf_exceptions, inspect.isclass)
        if issubclass(cls, drf_exceptions.APIException)
    }
    assert sorted(codes - glossary.ERRORS.keys()) == []


def test_every_claim_the_provider_issues_has_a_meaning():
    issued = {claim for scope in SCOPES.values() for claim in scope["claims"]}
    issued |= set(ID_TOKEN_CLAIMS) | {"sub", "jti", "at_hash", "events"}
    assert sorted(issued - glossary.CLAIMS.keys()) == []
    assert all(meaning.strip() for meaning in glossary.CLAIMS.values())


@pytest.mark.django_db
def test_every_member_of_an_introspection_answer_has_a_meaning(client, web_client, tokens):
    for token in (tokens["access_token"], tokens["refresh_token"]):
        answer = client.post(
            "/introspect", {"token": token}, HTTP_AUTHORIZATION=basic_auth(web_client.client_id)
        )
        assert answer.json()["active"] is True
        assert sorted(answer.json().keys() - glossary.INTROSPECTION_MEMBERS.keys()) == []

"""Registering a back-channel logout URI: admin, ``idp_client``, declarative import, one set of rules."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client

from idp.client_import import apply_client_specs
from idp.clients import clean_client_settings
from idp.models import Application
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

WEB = {"kind": "web", "redirect_uris": "https://rp.example.com/callback", "allowed_scopes": "openid"}


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("http://rp.example.com/logout", "http is allowed only on loopback"),
        ("https://rp.example.com/logout#frag", "must not contain a fragment"),
        ("https://rp.example.com/*", "wildcards"),
        ("https://user:pw@rp.example.com/logout", "user name or password"),
        ("/logout", "absolute URI"),
        ("javascript:alert(1)", "not allowed"),
        ("https://a.example.com/1 https://b.example.com/2", "one back-channel logout URI"),
    ],
)
def test_a_bad_back_channel_logout_uri_is_refused(uri, message):
    with pytest.raises(ValidationError, match=message) as caught:
        clean_client_settings(**WEB, backchannel_logout_uri=uri)
    assert "backchannel_logout_uri" in caught.value.message_dict


@pytest.mark.parametrize(
    "uri",
    ["https://rp.example.com/backchannel?tenant=1", "http://127.0.0.1:9000/bcl", "http://localhost/bcl"],
)
def test_https_or_loopback_http_with_a_query_is_accepted(uri):
    assert clean_client_settings(**WEB, backchannel_logout_uri=uri)["backchannel_logout_uri"] == uri


def test_a_service_has_no_sessions_to_log_out_of():
    with pytest.raises(ValidationError, match="no browser sessions"):
        clean_client_settings(kind="service", backchannel_logout_uri="https://svc.example.com/bcl")


def test_idp_client_create_registers_the_uri_and_validates_it():
    out = StringIO()
    call_command(
        "idp_client", "create", "--kind", "web", "--name", "Shop", "--client-id", "shop",
        "--redirect-uri", "https://shop.example.com/cb", "--backchannel-logout-uri",
        "https://shop.example.com/backchannel", "--backchannel-logout-session-required", "--json", stdout=out,
    )  # fmt: skip
    assert json.loads(out.getvalue())["backchannel_logout_uri"] == "https://shop.example.com/backchannel"
    shop = Application.objects.get(client_id="shop")
    assert shop.backchannel_logout_session_required is True
    with pytest.raises(CommandError, match="http is allowed only on loopback"):
        call_command(
            "idp_client", "create", "--kind", "web", "--name", "Bad", "--redirect-uri",
            "https://bad.example.com/cb", "--backchannel-logout-uri", "http://bad.example.com/bcl",
            stdout=StringIO(),
        )  # fmt: skip


def test_the_import_sets_changes_and_clears_the_uri():
    spec = {
        "client_id": "shop", "name": "Shop", "kind": "web", "redirect_uris": ["https://shop.example.com/cb"],
        "backchannel_logout_uri": "https://shop.example.com/bcl", "logout_ends_offline_access": True,
    }  # fmt: skip
    apply_client_specs([spec])
    shop = Application.objects.get(client_id="shop")
    assert shop.backchannel_logout_uri == "https://shop.example.com/bcl" and shop.logout_ends_offline_access
    (result,) = apply_client_specs([spec])
    assert result.action == "unchanged"
    (result,) = apply_client_specs([{k: v for k, v in spec.items() if k != "backchannel_logout_uri"}])
    assert result.changed == ["backchannel_logout_uri"]
    assert Application.objects.get(client_id="shop").backchannel_logout_uri == ""
    with pytest.raises(ValidationError, match="backchannel_logout_uri"):
        apply_client_specs([{**spec, "backchannel_logout_uri": "http://shop.example.com/bcl"}])


def test_the_admin_form_registers_and_validates_the_uri():
    operator = Client()
    operator.force_login(UserFactory(username="operator", is_staff=True, is_superuser=True))
    data = {
        "name": "Shop", "client_id": "shop", "redirect_uris": "https://shop.example.com/cb",
        "allowed_scopes": ["openid"], "backchannel_logout_uri": "http://shop.example.com/bcl",
    }  # fmt: skip
    page = operator.post("/admin/idp/application/add/?kind=web", data)
    assert page.status_code == 200 and "http is allowed only on loopback" in page.content.decode()
    response = operator.post(
        "/admin/idp/application/add/?kind=web",
        {
            **data,
            "backchannel_logout_uri": "https://shop.example.com/bcl",
            "backchannel_logout_session_required": "on",
        },
    )
    assert response.status_code == 302
    shop = Application.objects.get(client_id="shop")
    assert (
        shop.backchannel_logout_uri == "https://shop.example.com/bcl"
        and shop.backchannel_logout_session_required
    )

"""``manage.py idp_client``: create, list, rotate-secret, disable, and an idempotent import."""

import json
from io import StringIO

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import CommandError, call_command

from idp.models import AccessToken, Application, AuditEvent
from tests.conftest import basic_auth

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command("idp_client", *args, stdout=out)
    return out.getvalue()


def run_json(*args):
    return json.loads(run(*args, "--json"))


def test_create_prints_the_secret_once_as_json(client):
    result = run_json(
        "create", "--kind", "service", "--name", "Billing", "--client-id", "billing",
        "--access-token-lifetime", "900",
    )  # fmt: skip
    secret = result["integration"]["client_secret"]
    app = Application.objects.get(client_id="billing")
    assert (app.kind, app.client_type, app.access_token_lifetime) == ("service", "confidential", 900)
    assert check_password(secret, app.client_secret) and secret not in app.client_secret
    assert result["integration"]["discovery_url"] == "http://127.0.0.1:8000/.well-known/openid-configuration"
    token = client.post(
        "/token", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=basic_auth("billing", secret)
    )
    assert token.json()["expires_in"] == 900
    assert secret not in run("list") and secret not in json.dumps(run_json("list"))


def test_create_validates_like_the_admin():
    with pytest.raises(CommandError, match="http is allowed only on loopback"):
        run("create", "--kind", "web", "--name", "Bad", "--redirect-uri", "http://rp.example.com/cb")
    assert not Application.objects.exists()


def test_create_public_client_in_text():
    out = run(
        "create", "--kind", "native", "--name", "CLI", "--client-id", "cli",
        "--redirect-uri", "com.example.cli:/callback", "--scope", "openid", "--scope", "offline_access",
    )  # fmt: skip
    assert "Created native client cli." in out and "secret" not in out.lower().replace("client_secret", "")
    assert Application.objects.get(client_id="cli").allowed_scopes == "openid offline_access"


def test_rotate_secret_with_grace_and_disable(client, service_client):
    result = run_json("rotate-secret", "service-client", "--grace-period", "3600")
    assert result["previous_secret_valid_until"]
    for secret in (result["client_secret"], "a-test-client-secret-that-is-long-and-random-enough-0123456789"):
        response = client.post(
            "/token",
            {"grant_type": "client_credentials"},
            HTTP_AUTHORIZATION=basic_auth("service-client", secret),
        )
        assert response.status_code == 200
    assert AccessToken.objects.filter(application=service_client).count() == 2
    assert "disabled" in run("disable", "service-client")
    service_client.refresh_from_db()
    assert (
        not service_client.is_active and not AccessToken.objects.filter(application=service_client).exists()
    )
    assert run_json("disable", "service-client")["changed"] is False
    events = list(AuditEvent.objects.values_list("event", flat=True))
    assert {"client_secret_rotated", "client_disabled"} <= set(events)
    assert not any(result["client_secret"] in json.dumps(e.details) for e in AuditEvent.objects.all())


def test_unknown_client_is_a_clear_error():
    with pytest.raises(CommandError, match="No client with client_id 'nope'"):
        run("disable", "nope")


SPECS = {
    "clients": [
        {
            "client_id": "shop",
            "name": "Shop",
            "kind": "web",
            "redirect_uris": ["https://shop.example.com/callback"],
            "post_logout_redirect_uris": ["https://shop.example.com/bye"],
            "allowed_scopes": ["openid", "email"],
            "first_party": True,
        },
        {
            "client_id": "shop-spa",
            "name": "Shop SPA",
            "kind": "spa",
            "redirect_uris": ["https://app.shop.example.com/cb"],
            "allowed_origins": ["https://app.shop.example.com"],
        },
        {"client_id": "shop-batch", "name": "Batch", "kind": "service", "access_token_lifetime": 600},
    ]
}


def write(tmp_path, data) -> str:
    path = tmp_path / "clients.json"
    path.write_text(json.dumps(data))
    return str(path)


def test_import_is_idempotent_and_prints_generated_secrets_once(tmp_path):
    path = write(tmp_path, SPECS)
    first = run_json("import", path)
    assert [(r["client_id"], r["action"]) for r in first] == [
        ("shop", "created"), ("shop-spa", "created"), ("shop-batch", "created"),
    ]  # fmt: skip
    assert "client_secret" in first[0] and "client_secret" not in first[1]
    shop = Application.objects.get(client_id="shop")
    assert check_password(first[0]["client_secret"], shop.client_secret)
    assert shop.skip_authorization and shop.allowed_scopes == "openid email"
    stamp = shop.updated
    second = run_json("import", path)
    assert [r["action"] for r in second] == ["unchanged"] * 3
    assert all("client_secret" not in r for r in second)
    shop.refresh_from_db()
    assert shop.updated == stamp and check_password(first[0]["client_secret"], shop.client_secret)
    assert AuditEvent.objects.filter(event="client_created").count() == 3
    assert not AuditEvent.objects.filter(event="client_changed").exists()


def test_import_applies_changes_and_disables(tmp_path):
    run("import", write(tmp_path, SPECS))
    changed = json.loads(json.dumps(SPECS))
    changed["clients"][0]["redirect_uris"].append("https://shop.example.com/callback2")
    changed["clients"][2]["is_active"] = False
    out = run("import", write(tmp_path, changed))
    assert "shop: updated (redirect_uris)" in out and "shop-batch: updated (is_active)" in out
    assert not Application.objects.get(client_id="shop-batch").is_active


def test_import_refuses_an_invalid_file_without_applying_any_of_it(tmp_path):
    bad = json.loads(json.dumps(SPECS))
    bad["clients"][1]["redirect_uris"] = ["http://app.shop.example.com/cb"]
    bad["clients"][2]["clientsecret"] = "typo"
    with pytest.raises(CommandError) as exc:
        run("import", write(tmp_path, bad))
    assert "shop-spa" in str(exc.value) and "unknown keys clientsecret" in str(exc.value)
    assert not Application.objects.exists()


def test_import_accepts_a_hash_so_the_file_holds_no_secret(tmp_path, client):
    from django.contrib.auth.hashers import make_password

    secret = "x" * 20 + "-a-long-random-secret-from-a-vault"
    spec = {
        "client_id": "vaulted",
        "kind": "service",
        "client_secret_hash": make_password(secret, hasher="idp_client_secret"),
    }
    assert run_json("import", write(tmp_path, [spec]))[0] == {
        "client_id": "vaulted",
        "action": "created",
        "changed": [],
    }
    response = client.post(
        "/token", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=basic_auth("vaulted", secret)
    )
    assert response.status_code == 200


def test_import_refuses_short_cleartext_secrets(tmp_path):
    spec = {"client_id": "weak", "kind": "service", "client_secret": "password"}
    with pytest.raises(CommandError, match="at least 32"):
        run("import", write(tmp_path, [spec]))


def test_create_device_client_is_public_and_says_how_to_start_the_grant(client):
    result = run_json("create", "--kind", "device", "--name", "TV", "--client-id", "tv", "--scope", "openid")
    app = Application.objects.get(client_id="tv")
    assert (app.kind, app.client_type) == ("device", "public")
    assert app.authorization_grant_type == "urn:ietf:params:oauth:grant-type:device_code"
    integration = result["integration"]
    assert "client_secret" not in integration
    assert integration["device_authorization_endpoint"] == "http://127.0.0.1:8000/device-authorization"
    assert integration["grant_type"] == "urn:ietf:params:oauth:grant-type:device_code"
    started = client.post(
        "/device-authorization", "client_id=tv&scope=openid", content_type="application/x-www-form-urlencoded"
    )
    assert started.status_code == 200, started.content


def test_create_device_client_with_a_secret_authenticates_at_the_device_endpoint(client):
    result = run_json("create", "--kind", "device-secret", "--name", "Console", "--client-id", "console")
    secret = result["integration"]["client_secret"]
    assert Application.objects.get(client_id="console").client_type == "confidential"
    body = "scope=openid"
    form = "application/x-www-form-urlencoded"
    assert client.post("/device-authorization", body, content_type=form).status_code == 400
    authenticated = client.post(
        "/device-authorization", body, content_type=form, HTTP_AUTHORIZATION=basic_auth("console", secret)
    )
    assert authenticated.status_code == 200, authenticated.content


def test_device_client_registers_no_redirect_uri():
    with pytest.raises(CommandError, match="no browser redirects"):
        run("create", "--kind", "device", "--name", "TV", "--redirect-uri", "https://tv.example/cb")

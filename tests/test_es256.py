"""ES256: P-256 keys, a client's id_token_signed_response_alg, discovery, and an independent verifier."""

import json
import warnings

import authlib.deprecate  # noqa: F401  (installs authlib's "always" filter before ours below)
import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from jwcrypto import jws

from idp.client_import import spec_problems
from idp.clients import create_client
from idp.key_rotation import rotate_key
from tests.conftest import ISSUER, authorize, exchange
from tests.factories import ApplicationFactory

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # authlib.jose announces joserfc (AuthlibDeprecationWarning)
    from authlib.jose import JsonWebKey
    from authlib.jose import jwt as authlib_jwt

pytestmark = pytest.mark.django_db


def advertised(client) -> list[str]:
    return client.get("/.well-known/openid-configuration").json()["id_token_signing_alg_values_supported"]


def test_discovery_advertises_es256_once_an_es256_key_is_active(client):
    assert advertised(client) == ["RS256"]
    rotate_key(alg="ES256")
    assert advertised(client) == ["RS256", "ES256"]
    # JWKS lists the RS256 signing key first (OIDC's default), then the ES256 one.
    assert [key["alg"] for key in client.get("/.well-known/jwks.json").json()["keys"]] == ["RS256", "ES256"]


def test_an_es256_client_gets_id_tokens_an_independent_library_verifies(client, user):
    rotate_key(alg="ES256")
    app = ApplicationFactory(client_id="es-client", algorithm="ES256")
    client.force_login(user)
    authz = authorize(client, app)
    id_token = exchange(client, app, authz).json()["id_token"]
    header = jws.JWS()
    header.deserialize(id_token)
    assert header.jose_header["alg"] == "ES256"
    key_set = JsonWebKey.import_key_set(client.get("/.well-known/jwks.json").json())
    claims = authlib_jwt.decode(
        id_token,
        key_set,
        claims_options={"iss": {"essential": True, "value": ISSUER}, "aud": {"value": app.client_id}},
    )
    claims.validate()
    assert claims["nonce"] == "n-0S6_WzA2Mj" and len(id_token.rsplit(".", 1)[1]) == 86  # 64 raw bytes: R || S
    # An ES256 ID token serves as a logout hint, like an RS256 one.
    response = client.get(
        "/end-session",
        {"id_token_hint": id_token, "post_logout_redirect_uri": "https://rp.example.com/logged-out"},
    )
    assert response.status_code == 302


def test_an_rs256_client_stays_rs256_beside_an_es256_key(client, user, web_client):
    rotate_key(alg="ES256")
    client.force_login(user)
    id_token = exchange(client, web_client, authorize(client, web_client)).json()["id_token"]
    parsed = jws.JWS()
    parsed.deserialize(id_token)
    assert parsed.jose_header["alg"] == "RS256"


def test_es256_for_a_client_needs_an_active_es256_key():
    with pytest.raises(ValidationError, match="No ES256 key is active"):
        create_client(kind="web", name="EC", redirect_uris=["https://rp.example.com/cb"], algorithm="ES256")
    rotate_key(alg="ES256")
    client, _secret = create_client(
        kind="web", name="EC", redirect_uris=["https://rp.example.com/cb"], algorithm="ES256"
    )
    assert client.algorithm == "ES256"


def test_idp_client_command_and_import_set_id_token_signed_response_alg(tmp_path, capsys):
    rotate_key(alg="ES256")
    call_command(
        "idp_client", "create", "--kind", "web", "--name", "CLI", "--client-id", "cli-es",
        "--redirect-uri", "https://rp.example.com/cb", "--id-token-signed-response-alg", "ES256", "--json",
    )  # fmt: skip
    assert json.loads(capsys.readouterr().out)["id_token_signed_response_alg"] == "ES256"
    spec = {
        "client_id": "gitops-es", "kind": "web", "name": "GitOps", "redirect_uris": ["https://rp.example.com/cb"],
        "id_token_signed_response_alg": "ES256",
    }  # fmt: skip
    assert spec_problems(spec) == []
    assert spec_problems({**spec, "id_token_signed_response_alg": "HS256"}) == [
        "gitops-es: id_token_signed_response_alg must be RS256 or ES256."
    ]
    path = tmp_path / "clients.json"
    path.write_text(json.dumps([spec]))
    call_command("idp_client", "import", str(path))
    from oauth2_provider.models import get_application_model

    assert get_application_model().objects.get(client_id="gitops-es").algorithm == "ES256"

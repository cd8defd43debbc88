"""Hypothesis fuzzing of the protocol endpoints and sign-in pages: no 5xx, standard errors, no open redirect.

Each endpoint is called with a real, working request whose parameters are then kept, dropped,
duplicated, corrupted or replaced by hostile values (NUL and control characters, invalid UTF-8 and
percent-encodings, very long strings, JWT-shaped garbage), under varied content types and
credentials. Every example runs in a savepoint that is rolled back, so none sees another's writes.
Two runs per endpoint: a fixed one (the same examples every time) and a random one whose seed is
printed on failure; ``FUZZ_SEED=<seed>`` replays it.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, quote_from_bytes, urljoin, urlsplit

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, Phase, given, note, seed, settings
from hypothesis import strategies as st

from tests.conftest import REDIRECT_URI, authorize, basic_auth, consent_form_data, pkce_pair
from tests.factories import (
    CLIENT_SECRET,
    PASSWORD,
    ApplicationFactory,
    PublicClientFactory,
    ServiceClientFactory,
)

pytestmark = pytest.mark.django_db

# Per endpoint: the same examples on every run, and a new seed's (printed on failure). FUZZ_EXAMPLES=n
# multiplies both for a longer run; FUZZ_SHRINK=0 reports the first failure as found, unshrunk.
SCALE = int(os.environ.get("FUZZ_EXAMPLES", "1"))
FIXED_EXAMPLES = 20 * SCALE
RANDOM_EXAMPLES = 10 * SCALE
PHASES = list(Phase) if os.environ.get("FUZZ_SHRINK", "1") != "0" else [Phase.explicit, Phase.generate]

POST_LOGOUT_URI = "https://rp.example.com/logged-out"
FORM = "application/x-www-form-urlencoded"

# --- hostile values ------------------------------------------------------------------------------

HOSTILE_CHARACTERS = (
    "\x00\x01\x08\t\n\r\x0b\x1b\x1f\x7f\x80\x85\x9f\xa0\xe9\u2028\u202e\ufeff\ufffd\U0001f600"
)
JWT_SHAPED = st.builds(
    lambda header, payload, signature: ".".join(
        base64.urlsafe_b64encode(part).rstrip(b"=").decode() for part in (header, payload, signature)
    ),
    st.sampled_from([b'{"alg":"RS256","kid":"x"}', b'{"alg":"none"}', b"\x00", b"{}"]),
    st.binary(max_size=40),
    st.binary(max_size=40),
)
HOSTILE_TEXT = st.one_of(
    st.just(""),
    st.text(max_size=24),
    st.text(alphabet=HOSTILE_CHARACTERS, min_size=1, max_size=6),
    st.builds(lambda char, n: char * n, st.sampled_from("a%\x00\xe9."), st.integers(256, 5000)),
    JWT_SHAPED,
)
HOSTILE_VALUE = st.one_of(HOSTILE_TEXT.map(str.encode), st.binary(max_size=24))
# Raw pieces of a query string: broken percent-encodings, invalid UTF-8, stray separators.
RAW_JUNK = st.sampled_from(
    ["%", "%0", "%zz", "%C3", "%C3%28", "%ED%A0%80", "%FF%FE", "%00", "&&", "=", "==&=", ";", "+%00+", "a=%"]
)
# Header values as a WSGI server passes them on (gunicorn refuses NUL and other controls outright).
HEADER_TEXT = st.text(
    alphabet=st.characters(codec="latin-1", exclude_characters="\x7f", min_codepoint=0x20) | st.just("\t"),
    max_size=60,
)
EXTRA_NAMES = [
    "client_id", "client_secret", "redirect_uri", "scope", "state", "nonce", "code", "code_verifier",
    "code_challenge", "code_challenge_method", "response_type", "response_mode", "grant_type",
    "refresh_token", "token", "token_type_hint", "access_token", "id_token_hint", "prompt", "max_age",
    "login_hint", "ui_locales", "post_logout_redirect_uri", "username", "password", "email", "next",
    "request", "request_uri", "device_code", "assertion", "audience", "\x00", "a[]", "", "claims",
    "resource",
]  # fmt: skip


@st.composite
def mutated(draw, value: str) -> bytes:
    """``value`` kept, with a hostile character inside, cut short, repeated, or replaced outright."""
    raw = value.encode()
    # A NUL byte first and most often: PostgreSQL refuses it outright, where SQLite just finds nothing.
    action = draw(
        st.sampled_from(["nul", "keep", "nul", "insert", "cut", "repeat", "append", "replace", "replace"])
    )
    if action == "keep":
        return raw
    if action == "nul":
        at = draw(st.integers(0, len(value)))
        return (value[:at] + "\x00" + value[at:]).encode()
    if action == "insert":
        at = draw(st.integers(0, len(value)))
        return (
            value[:at] + draw(st.text(alphabet=HOSTILE_CHARACTERS, min_size=1, max_size=3)) + value[at:]
        ).encode()
    if action == "cut":
        return raw[: draw(st.integers(0, max(len(raw) - 1, 0)))]
    if action == "repeat":
        return raw * draw(st.integers(2, 200))
    if action == "append":
        return raw + draw(HOSTILE_VALUE)
    return draw(HOSTILE_VALUE)


@st.composite
def hostile_pairs(draw, base: dict[str, str]) -> list[tuple[str, bytes]]:
    """The base parameters, each kept, dropped, duplicated or mutated; sometimes with extra ones."""
    pairs: list[tuple[str, bytes]] = []
    for name, value in base.items():
        action = draw(st.sampled_from(["keep", "keep", "mutate", "mutate", "drop", "duplicate"]))
        if action == "keep":
            pairs.append((name, value.encode()))
        elif action == "mutate":
            pairs.append((name, draw(mutated(value))))
        elif action == "duplicate":
            pairs += [(name, value.encode()), (name, draw(st.just(value.encode()) | HOSTILE_VALUE))]
    extra_names = st.sampled_from(EXTRA_NAMES) | st.text(max_size=8)
    pairs += draw(st.lists(st.tuples(extra_names, HOSTILE_VALUE), max_size=3))
    return draw(st.permutations(pairs)) if draw(st.booleans()) else pairs


def form_encode(pairs: list[tuple[str, bytes]], junk: list[str]) -> str:
    parts = [f"{quote(name, safe='')}={quote_from_bytes(value, safe='')}" for name, value in pairs]
    return "&".join(parts + junk)


@st.composite
def query_string(draw, pairs: list[tuple[str, bytes]]) -> str:
    return form_encode(pairs, draw(st.lists(RAW_JUNK, max_size=2)))


def multipart(pairs: list[tuple[str, bytes]]) -> bytes:
    lines = []
    for name, value in pairs:
        lines += [
            b"--BoUnDaRy",
            f'Content-Disposition: form-data; name="{name}"'.encode(errors="replace"),
            b"",
        ]
        lines.append(value)
    return b"\r\n".join([*lines, b"--BoUnDaRy--", b""])


@st.composite
def body(draw, pairs: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    """A request body of the pairs and its Content-Type: mostly a form, sometimes something else."""
    kinds = ["form"] * 6 + ["form-charset", "json", "text", "none", "multipart"]
    kind = draw(st.sampled_from(kinds))
    encoded = draw(query_string(pairs)).encode("ascii")
    if kind == "form":
        return encoded, FORM
    if kind == "form-charset":
        charset = draw(st.sampled_from(["latin-1", "utf-16", "bogus-charset", ""]))
        return encoded, f"{FORM}; charset={charset}"
    if kind == "json":
        document = {name: value.decode(errors="replace") for name, value in pairs}
        return draw(
            st.sampled_from([json.dumps(document).encode(), b"{", b"[]", b"null"])
        ), "application/json"
    if kind == "multipart":
        return multipart(pairs), "multipart/form-data; boundary=BoUnDaRy"
    if kind == "text":
        return encoded, "text/plain"
    return encoded, ""


@st.composite
def client_authorization(draw, client_id: str | None) -> str | None:
    """An Authorization header: the client's real Basic credentials, broken ones, or none."""
    choices = ["none", "hostile-basic", "raw-basic", "garbage"]
    if client_id is not None:
        choices += ["valid", "valid", "wrong-secret"]
    choice = draw(st.sampled_from(choices))
    if choice == "valid":
        return basic_auth(client_id)
    if choice == "wrong-secret":
        return basic_auth(client_id, "not-the-secret")
    if choice == "hostile-basic":
        user = quote_from_bytes(draw(mutated(client_id or "client")), safe="")
        secret = quote_from_bytes(draw(mutated(CLIENT_SECRET)), safe="")
        return "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()
    if choice == "raw-basic":
        return "Basic " + base64.b64encode(draw(st.binary(max_size=40))).decode()
    if choice == "garbage":
        return draw(st.sampled_from(["Basic ", "Bearer ", "", "Digest "])) + draw(HEADER_TEXT)
    return None


# --- the endpoints ---------------------------------------------------------------------------------


@dataclass
class World:
    """What the fuzzed requests start from: clients, a signed-in browser, live tokens and a fresh code."""

    browser: Client
    tokens: dict
    code: str
    verifier: str
    consent_form: dict[str, str]
    challenge: str
    clients: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    base: Callable[[World], dict[str, str]]
    answer: str  # "oauth-json", "revocation", "introspection", "userinfo" or "page"
    client_id: str | None = None  # whose Basic credentials to try
    signed_in: bool = False  # a person's browser (else anonymous or a back end)
    body: bool = True  # parameters in the body (else in the query)


def authorize_base(challenge: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": "web-client",
        "redirect_uri": REDIRECT_URI,
        "scope": "openid profile email",
        "state": "s-1",
        "nonce": "n-1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "prompt": "consent",
    }


ENDPOINTS = {
    "authorize-get": Endpoint(
        "GET",
        "/authorize",
        lambda w: {**authorize_base(w.challenge), "max_age": "600"},
        "page",
        signed_in=True,
        body=False,
    ),
    "authorize-post": Endpoint(
        "POST", "/authorize", lambda w: authorize_base(w.challenge), "page", signed_in=True
    ),
    "authorize-consent": Endpoint(
        "POST",
        "/authorize",
        lambda w: {**w.consent_form, "allow": "1"},
        "page",
        signed_in=True,
    ),
    "token-authorization_code": Endpoint(
        "POST",
        "/token",
        lambda w: {
            "grant_type": "authorization_code",
            "code": w.code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": w.verifier,
            "client_id": "web-client",
            "client_secret": CLIENT_SECRET,
        },
        "oauth-json",
        client_id="web-client",
    ),
    "token-public-client": Endpoint(
        "POST",
        "/token",
        lambda w: {
            "grant_type": "authorization_code",
            "code": "not-a-code",
            "redirect_uri": REDIRECT_URI,
            "code_verifier": w.verifier,
            "client_id": "spa-client",
        },
        "oauth-json",
    ),
    "token-refresh_token": Endpoint(
        "POST",
        "/token",
        lambda w: {
            "grant_type": "refresh_token",
            "refresh_token": w.tokens["refresh_token"],
            "scope": "openid",
        },
        "oauth-json",
        client_id="web-client",
    ),
    "token-client_credentials": Endpoint(
        "POST",
        "/token",
        lambda w: {"grant_type": "client_credentials", "scope": "users:read"},
        "oauth-json",
        client_id="service-client",
    ),
    "token-other-grants": Endpoint(
        "POST",
        "/token",
        lambda w: {
            "grant_type": "password",  # or another of OTHER_GRANT_TYPES, drawn per example
            "username": "alice",
            "password": PASSWORD,
            "device_code": "x",
            "assertion": w.tokens["id_token"],
        },
        "oauth-json",
        client_id="web-client",
    ),
    "revoke": Endpoint(
        "POST",
        "/revoke",
        lambda w: {
            "token": w.tokens["access_token"],
            "token_type_hint": "access_token",
            "client_id": "spa-client",
        },
        "revocation",
        client_id="web-client",
    ),
    "introspect": Endpoint(
        "POST",
        "/introspect",
        lambda w: {"token": w.tokens["access_token"], "token_type_hint": "refresh_token"},
        "introspection",
        client_id="resource-server",
    ),
    "userinfo-get": Endpoint("GET", "/userinfo", lambda w: {"schema": "openid"}, "userinfo", body=False),
    "userinfo-post": Endpoint(
        "POST", "/userinfo", lambda w: {"access_token": w.tokens["access_token"]}, "userinfo"
    ),
    "end-session-get": Endpoint(
        "GET",
        "/end-session",
        lambda w: {
            "id_token_hint": w.tokens["id_token"],
            "client_id": "web-client",
            "post_logout_redirect_uri": POST_LOGOUT_URI,
            "state": "bye",
            "ui_locales": "en",
        },
        "page",
        signed_in=True,
        body=False,
    ),
    "end-session-post": Endpoint(
        "POST",
        "/end-session",
        lambda w: {
            "id_token_hint": w.tokens["id_token"],
            "client_id": "web-client",
            "post_logout_redirect_uri": POST_LOGOUT_URI,
            "state": "bye",
            "allow": "1",
        },
        "page",
        signed_in=True,
    ),
    "login": Endpoint(
        "POST",
        "/login",
        lambda w: {"username": "alice", "password": PASSWORD, "next": "/authorize?client_id=web-client"},
        "page",
    ),
    "login-get": Endpoint(
        "GET", "/login", lambda w: {"next": "/authorize?client_id=web-client"}, "page", body=False
    ),
    "password-reset": Endpoint("POST", "/password-reset", lambda w: {"email": "alice@example.com"}, "page"),
}
OTHER_GRANT_TYPES = [
    "password",
    "implicit",
    "urn:ietf:params:oauth:grant-type:jwt-bearer",
    "urn:ietf:params:oauth:grant-type:device_code",
    "unknown",
]


@dataclass
class HostileRequest:
    method: str
    path: str
    query: str
    body: bytes
    content_type: str
    authorization: str | None
    params: list[tuple[str, bytes]]  # what the body carries, however it is encoded

    def send(self, browser: Client):
        url = f"{self.path}?{self.query}" if self.query else self.path
        extra = {"HTTP_AUTHORIZATION": self.authorization} if self.authorization is not None else {}
        return browser.generic(self.method, url, data=self.body, content_type=self.content_type, **extra)

    def values_of(self, name: str) -> list[str]:
        """What the server may take as ``name``: from the query and from the body, decoded leniently."""
        found = [value for key, value in parse_qsl(self.query, errors="replace") if key == name]
        return found + [value.decode(errors="replace") for key, value in self.params if key == name]


@st.composite
def hostile_request(draw, endpoint_name: str, world: World) -> HostileRequest:
    endpoint = ENDPOINTS[endpoint_name]
    base = endpoint.base(world)
    if endpoint_name == "token-other-grants":
        base["grant_type"] = draw(st.sampled_from(OTHER_GRANT_TYPES))
    pairs = draw(hostile_pairs(base))
    query, data, content_type = "", b"", ""
    if endpoint.body:
        data, content_type = draw(body(pairs))
        if draw(st.integers(0, 9)) == 0:  # parameters in the query of a POST, too
            query = draw(query_string(draw(hostile_pairs(base))))
    else:
        query = draw(query_string(pairs))
    if endpoint.answer == "userinfo":
        authorization = draw(
            st.sampled_from([f"Bearer {world.tokens['access_token']}", None])
            | HEADER_TEXT.map(lambda text: f"Bearer {text}")
            | st.builds(lambda v: "Bearer " + quote_from_bytes(v), mutated(world.tokens["access_token"]))
            | client_authorization(None)
        )
    else:
        authorization = draw(client_authorization(endpoint.client_id))
    params = pairs if endpoint.body else []
    return HostileRequest(endpoint.method, endpoint.path, query, data, content_type, authorization, params)


# --- what every answer must look like --------------------------------------------------------------


def is_local(location: str, *, path: str) -> bool:
    """``location``, resolved as a browser would from ``path`` on this site, stays on this site.

    Browsers drop tabs and line breaks from a URL and read a backslash as a slash.
    """
    cleaned = "".join(c for c in location if c not in "\t\r\n").replace("\\", "/")
    resolved = urlsplit(urljoin(f"http://testserver{path}", cleaned))
    return resolved.scheme == "http" and resolved.netloc == "testserver"


def same_uri(location: str, registered: str) -> bool:
    """``location`` goes to ``registered`` (any port on a loopback host, RFC 8252 §7.3; any query)."""
    got, want = urlsplit(location), urlsplit(registered)
    if (got.scheme, got.hostname, got.path) != (want.scheme, want.hostname, want.path):
        return False
    return got.port == want.port or want.hostname in ("127.0.0.1", "::1", "localhost")


def allowed_redirect(location: str, request: HostileRequest, world: World, *, post_logout: bool) -> bool:
    """A redirect stays on this site, or goes to a URI registered by the client the request names."""
    if is_local(location, path=request.path):
        return True
    named = set(request.values_of("client_id"))
    if post_logout and world.tokens["id_token"] in request.values_of("id_token_hint"):
        named.add("web-client")
    for client_id in named & set(world.clients):
        client = world.clients[client_id]
        uris = client.post_logout_redirect_uris if post_logout else client.redirect_uris
        if any(same_uri(location, uri) for uri in uris.split()):
            return True
    return False


def json_body(response) -> dict:
    assert response["Content-Type"].split(";")[0] == "application/json", response["Content-Type"]
    document = json.loads(response.content)
    assert isinstance(document, dict)
    return document


def check(endpoint_name: str, request: HostileRequest, response, world: World) -> None:
    endpoint = ENDPOINTS[endpoint_name]
    status = response.status_code
    assert status < 500, response.content[:300]
    if endpoint.answer == "oauth-json":  # RFC 6749 §5.1 and §5.2
        document = json_body(response)
        if status == 200:
            assert "access_token" in document
        else:
            assert "error" in document and status in (400, 401), (status, document)
    elif endpoint.answer == "revocation":  # RFC 7009 §2.2: 200 (an empty body) or a §5.2 error
        if status != 200 or response.content:
            assert "error" in json_body(response) or status == 200
    elif endpoint.answer == "introspection":  # RFC 7662 §2.2
        document = json_body(response)
        assert ("active" in document) if status == 200 else ("error" in document)
    elif endpoint.answer == "userinfo":  # OIDC Core 5.3.2/5.3.3, RFC 6750 §3
        if status == 200:
            assert "sub" in json_body(response)
        else:
            assert status in (400, 401, 403, 405)
            if status != 405:
                assert response["WWW-Authenticate"].startswith("Bearer")
    elif 300 <= status < 400:  # a person's page may send the browser on, but only somewhere allowed
        location = response["Location"]
        post_logout = endpoint.path == "/end-session"
        assert allowed_redirect(location, request, world, post_logout=post_logout), location
    else:  # a page for a person
        assert response["Content-Type"].startswith("text/html"), response["Content-Type"]


# --- the test ------------------------------------------------------------------------------------


@pytest.fixture
def world(client, user) -> World:
    """The clients, a signed-in browser, alice's tokens at web-client, an unused code and a consent form."""
    clients = {
        "web-client": ApplicationFactory(
            client_id="web-client", allowed_scopes="openid profile email offline_access"
        ),
        "spa-client": PublicClientFactory(client_id="spa-client", redirect_uris=REDIRECT_URI),
        "service-client": ServiceClientFactory(client_id="service-client", allowed_scopes="users:read"),
        "resource-server": ServiceClientFactory(client_id="resource-server", is_resource_server=True),
    }
    client.force_login(user)
    web = clients["web-client"]
    first = authorize(client, web, scope="openid profile email offline_access", prompt="consent")
    tokens = client.post(
        "/token",
        {
            "grant_type": "authorization_code",
            "code": first.code,
            "redirect_uri": first.redirect_uri,
            "code_verifier": first.verifier,
        },
        HTTP_AUTHORIZATION=basic_auth("web-client"),
    ).json()
    fresh = authorize(client, web, prompt="consent")
    _, challenge = pkce_pair()
    page = client.get("/authorize", authorize_base(challenge))
    assert page.status_code == 200, page.content[:300]
    return World(
        browser=client,
        tokens=tokens,
        code=fresh.code,
        verifier=fresh.verifier,
        consent_form=consent_form_data(page),
        challenge=challenge,
        clients=clients,
    )


def browser_for(endpoint: Endpoint, world: World) -> Client:
    """A browser of its own per example, with the signed-in person's cookies where a person is."""
    browser = Client()
    if endpoint.signed_in:
        browser.cookies = copy.deepcopy(world.browser.cookies)
    return browser


def random_seed() -> int:
    return int(os.environ.get("FUZZ_SEED") or random.SystemRandom().getrandbits(64))


@pytest.mark.parametrize("run", ["fixed", "random"])
@pytest.mark.parametrize("endpoint_name", list(ENDPOINTS))
def test_hostile_requests_get_a_standard_answer(world, endpoint_name, run):
    endpoint = ENDPOINTS[endpoint_name]
    fuzz_seed = random_seed() if run == "random" else None

    @settings(
        max_examples=FIXED_EXAMPLES if run == "fixed" else RANDOM_EXAMPLES,
        deadline=None,
        derandomize=run == "fixed",
        database=None,
        print_blob=True,
        phases=PHASES,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(request=hostile_request(endpoint_name, world))
    def fuzz(request: HostileRequest) -> None:
        note(repr(request))
        cache.clear()  # throttles and lockouts counted by one example must not decide the next
        with transaction.atomic():
            response = request.send(browser_for(endpoint, world))
            transaction.set_rollback(True)
        check(endpoint_name, request, response, world)

    if fuzz_seed is not None:
        fuzz = seed(fuzz_seed)(fuzz)
    try:
        fuzz()
    except Exception as failure:
        if fuzz_seed is not None:
            failure.add_note(f"Random fuzz seed {fuzz_seed}: replay with FUZZ_SEED={fuzz_seed} pytest ...")
        raise

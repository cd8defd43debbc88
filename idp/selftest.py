"""Self-test of a running OpenID Provider against the OpenID Foundation certification test plans.

The checks of the Basic OP (38 modules), Config OP (1) and RP-Initiated Logout OP (11) plans, run
over HTTP against a deployed issuer by an independent relying party: ``requests`` for the
back-channel, one ``requests.Session`` per simulated browser (its cookie jar) that fills in the
provider's login, consent and sign-out pages itself, and ``jwcrypto`` to verify ID tokens against
the published JWKS. Nothing here imports Django or the provider's code: what is tested is only what
the deployment says and does on the wire.

The relying party never needs to listen anywhere: a redirect to one of its URIs is captured from the
``Location`` header and never followed. Every authorization request carries PKCE S256.

Entry points: :data:`MODULES` (the registry), :func:`select_modules`, :func:`run_selftest` and
:func:`summary_line`. ``manage.py idp_selftest`` only parses arguments and prints.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import math
import re
import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, quote_plus, urlencode, urljoin, urlsplit, urlunsplit

import requests
from jwcrypto import jwk, jws
from jwcrypto.common import JWException

# --------------------------------------------------------------------------------------------------
# Results, modules and the registry
# --------------------------------------------------------------------------------------------------

PLANS: dict[str, str] = {
    "config": "oidcc-config-certification-test-plan",
    "basic": "oidcc-basic-certification-test-plan",
    "logout": "oidcc-rp-initiated-logout-certification-test-plan",
}

USER_AGENT = "idp-selftest/1 (+python-requests)"
CLOCK_SKEW = 300  # seconds of clock difference tolerated between this machine and the provider
MAX_REDIRECTS = 10
MAX_DETAIL = 400


class Status(StrEnum):
    PASS = "PASS"  # noqa: S105 - a verdict, not a password
    WARN = "WARN"
    FAIL = "FAIL"
    SKIP = "SKIP"


class CheckFailed(Exception):
    """The provider did something a module does not accept: the module FAILs with this detail."""


class ModuleSkipped(Exception):
    """The module does not apply to this provider (by the plan's own skip rules)."""


@dataclass(frozen=True)
class Config:
    """Where the provider is and what the relying party knows about itself."""

    issuer: str
    client_id: str = "demo-web"
    client_secret: str = "demo-web-secret"  # noqa: S105 - the public development demo client
    client2_id: str = "demo-web-2"
    client2_secret: str = "demo-web-2-secret"  # noqa: S105
    username: str = "alice"
    password: str = "alice-demo-password"  # noqa: S105
    redirect_uri: str = "http://127.0.0.1:8765/callback"
    post_logout_redirect_uri: str = "http://127.0.0.1:8765/logged-out"
    slow: bool = False
    request_timeout: float = 10.0
    max_time: float = 120.0
    verify_tls: bool = True


@dataclass(frozen=True)
class Client:
    client_id: str
    secret: str


ModuleFunction = Callable[["Context"], tuple[Status, str]]


@dataclass(frozen=True)
class Module:
    id: str
    plan: str
    summary: str
    run: ModuleFunction


@dataclass(frozen=True)
class Result:
    module: Module
    status: Status
    detail: str
    seconds: float

    def line(self) -> str:
        if self.status is Status.PASS or not self.detail:
            return f"{self.status.value} {self.module.id}"
        return f"{self.status.value} {self.module.id}: {self.detail}"


MODULES: list[Module] = []


def module(module_id: str, plan: str, summary: str) -> Callable[[ModuleFunction], ModuleFunction]:
    """Register a module function under its conformance-suite id, in plan order."""
    if plan not in PLANS:
        raise ValueError(f"unknown plan {plan!r}")

    def register(function: ModuleFunction) -> ModuleFunction:
        if any(existing.id == module_id for existing in MODULES):
            raise ValueError(f"duplicate module id {module_id!r}")
        MODULES.append(Module(id=module_id, plan=plan, summary=summary, run=function))
        return function

    return register


def select_modules(plan: str = "all", only: str | None = None) -> list[Module]:
    """The modules of ``plan`` (``basic``, ``config``, ``logout`` or ``all``), or just ``only``."""
    if plan != "all" and plan not in PLANS:
        raise ValueError(f"unknown plan {plan!r}: choose one of {', '.join([*PLANS, 'all'])}")
    chosen = [m for m in MODULES if plan == "all" or m.plan == plan]
    if only is not None:
        chosen = [m for m in chosen if m.id == only]
        if not chosen:
            raise ValueError(f"unknown module {only!r} (in plan {plan!r})")
    order = list(PLANS)
    return sorted(chosen, key=lambda m: order.index(m.plan))


def summary_line(results: Iterable[Result]) -> str:
    """``38 passed, 2 failed`` (WARN counts as passed), then ``, N skipped`` if any were skipped."""
    counts = Counter(result.status for result in results)
    line = f"{counts[Status.PASS] + counts[Status.WARN]} passed, {counts[Status.FAIL]} failed"
    if counts[Status.SKIP]:
        line += f", {counts[Status.SKIP]} skipped"
    return line


def run_selftest(
    config: Config,
    modules: Iterable[Module] | None = None,
    report: Callable[[Result], None] | None = None,
) -> list[Result]:
    """Run ``modules`` (default: all) one after the other within ``config.max_time`` seconds."""
    budget = config.max_time + (30.0 if config.slow else 0.0)
    deadline = time.monotonic() + budget
    shared = _Shared()
    results: list[Result] = []
    for mod in list(MODULES if modules is None else modules):
        started = time.monotonic()
        if started >= deadline:
            status, detail = Status.FAIL, f"not run: the overall time limit of {budget:.0f} s was reached"
        else:
            ctx = Context(config, deadline, shared)
            status, detail = _run_one(ctx, mod)
        result = Result(mod, status, detail, time.monotonic() - started)
        results.append(result)
        if report is not None:
            report(result)
    return results


def _run_one(ctx: Context, mod: Module) -> tuple[Status, str]:
    try:
        status, detail = mod.run(ctx)
    except CheckFailed as exc:
        status, detail = Status.FAIL, str(exc)
    except ModuleSkipped as exc:
        status, detail = Status.SKIP, str(exc)
    except Exception as exc:  # a harness bug must not hide the other modules' results
        status, detail = Status.FAIL, f"harness error: {type(exc).__name__}: {exc}"
    finally:
        ctx.close()
    if status is Status.PASS and ctx.warnings:
        status, detail = Status.WARN, "; ".join(ctx.warnings)
    return status, ctx.scrub(detail)


# --------------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    return verifier, b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def short_url(url: str) -> str:
    """A URL without its query and fragment: safe to print (no codes, tokens or hints)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def add_query(url: str, params: dict[str, str] | list[tuple[str, str]]) -> str:
    if not params:
        return url
    return url + ("&" if urlsplit(url).query else "?") + urlencode(params)


def shannon_bits(value: str) -> float:
    """Estimated entropy of ``value`` in bits: per-character Shannon entropy times its length."""
    if not value:
        return 0.0
    counts = Counter(value)
    per_char = -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())
    return per_char * len(value)


_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_CODE = re.compile(r"<code[^>]*>(.*?)</code>", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<[^>]+>")


def describe_page(response: requests.Response) -> str:
    """``HTTP 400 text/html /authorize "title" (error_code)``: what a person would see, no secrets."""
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip() or "no content type"
    text = response.text if "html" in content_type else ""
    title = _TITLE.search(text)
    code = _CODE.search(text)
    description = f"HTTP {response.status_code} {content_type} at {urlsplit(response.url).path}"
    if title:
        description += f' "{" ".join(_TAGS.sub("", title.group(1)).split())[:80]}"'
    if code:
        description += f" ({' '.join(_TAGS.sub('', code.group(1)).split())[:60]})"
    return description


def is_html(response: requests.Response) -> bool:
    return response.headers.get("Content-Type", "").split(";")[0].strip().lower() in {
        "text/html",
        "application/xhtml+xml",
    }


def json_body(response: requests.Response, what: str) -> dict[str, Any]:
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise CheckFailed(f"{what}: Content-Type is {content_type or 'missing'}, not application/json")
    try:
        body = response.json()
    except ValueError:
        raise CheckFailed(f"{what}: the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise CheckFailed(f"{what}: the JSON body is not an object")
    return body


def error_of(response: requests.Response) -> str:
    """``error: description`` from an OAuth JSON error body, for details."""
    try:
        body = response.json()
    except ValueError:
        return "no JSON error body"
    if not isinstance(body, dict):
        return "no JSON error body"
    error = body.get("error", "no error code")
    description = body.get("error_description")
    return f"{error}: {description}" if description else str(error)


# RFC 6749 §5.2: error and error_description use %x20-21 / %x23-5B / %x5D-7E.
_ERROR_CHARS = re.compile(r"^[\x20\x21\x23-\x5b\x5d-\x7e]+$")
# RFC 6749 §3.3 scope-token.
_SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")
_LOCALE = re.compile(r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")


# --------------------------------------------------------------------------------------------------
# HTML forms, as a browser sees them
# --------------------------------------------------------------------------------------------------


@dataclass
class Form:
    attrs: dict[str, str]
    fields: list[dict[str, str]] = field(default_factory=list)  # inputs, textareas (not buttons)
    buttons: list[dict[str, str]] = field(default_factory=list)  # submit buttons

    @property
    def has_password(self) -> bool:
        return any(f.get("type", "").lower() == "password" for f in self.fields)

    def button(self, name: str) -> dict[str, str] | None:
        return next((b for b in self.buttons if b.get("name") == name), None)

    def submission(self, click: str | None, fill: dict[str, str]) -> list[tuple[str, str]]:
        """What a browser posts: every successful control (hidden ones included), then the button."""
        data: list[tuple[str, str]] = []
        for control in self.fields:
            name = control.get("name")
            if not name or "disabled" in control:
                continue
            kind = control.get("type", "text").lower()
            if kind in {"checkbox", "radio"} and "checked" not in control:
                continue
            if kind == "file":
                continue
            data.append((name, fill.get(name, control.get("value", "on" if kind == "checkbox" else ""))))
        if click is not None:
            button = self.button(click)
            data.append((click, (button or {}).get("value", "")))
        return data


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._textarea: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name.lower(): value if value is not None else "" for name, value in attrs}
        if tag == "form":
            self._form = Form(attrs=attributes)
            self.forms.append(self._form)
            return
        if self._form is None:
            return
        if tag == "input":
            kind = attributes.get("type", "text").lower()
            if kind in {"submit", "image"}:
                self._form.buttons.append(attributes)
            elif kind not in {"button", "reset"}:
                self._form.fields.append(attributes)
        elif tag == "button":
            if attributes.get("type", "submit").lower() == "submit":
                self._form.buttons.append(attributes)
        elif tag == "textarea":
            self._textarea = {**attributes, "type": "textarea", "value": ""}
            self._form.fields.append(self._textarea)

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea["value"] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "textarea":
            self._textarea = None


def forms_of(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    parser.close()
    return parser.forms


# --------------------------------------------------------------------------------------------------
# The context of one module: configuration, HTTP with a deadline, discovery, keys, warnings
# --------------------------------------------------------------------------------------------------


class _Shared:
    """What the modules of one run may share: the discovery document and the keys (read-only)."""

    def __init__(self) -> None:
        self.discovery: dict[str, Any] | None = None
        self.discovery_error: str | None = None
        self.jwks: jwk.JWKSet | None = None


class Context:
    def __init__(self, config: Config, deadline: float, shared: _Shared) -> None:
        self.config = config
        self.deadline = deadline
        self.shared = shared
        self.warnings: list[str] = []
        self.browsers: list[Browser] = []
        self._secrets: set[str] = {config.client_secret, config.client2_secret, config.password}
        self.client = Client(config.client_id, config.client_secret)
        self.client2 = Client(config.client2_id, config.client2_secret)
        self.issuer = config.issuer
        self._rp_prefixes: list[str] = [config.redirect_uri, config.post_logout_redirect_uri]

    # --- bookkeeping ------------------------------------------------------------------------------

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def verdict(self) -> tuple[Status, str]:
        if self.warnings:
            return Status.WARN, "; ".join(self.warnings)
        return Status.PASS, ""

    def secret(self, value: str | None) -> str | None:
        """Remember ``value`` as something that must never be printed."""
        if value and len(value) >= 6:
            self._secrets.add(value)
        return value

    def scrub(self, text: str) -> str:
        for value in sorted(self._secrets, key=len, reverse=True):
            if value:
                text = text.replace(value, "[redacted]")
        text = " ".join(text.split())
        return text if len(text) <= MAX_DETAIL else text[: MAX_DETAIL - 3] + "..."

    def close(self) -> None:
        for browser in self.browsers:
            browser.session.close()
        self.browsers.clear()

    # --- time and HTTP ----------------------------------------------------------------------------

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def sleep(self, seconds: float) -> None:
        if self.remaining() < seconds + 1:
            raise CheckFailed(f"the overall time limit leaves no room to wait {seconds:.0f} s")
        time.sleep(seconds)

    def http(
        self, method: str, url: str, *, session: requests.Session | None = None, **kwargs: Any
    ) -> requests.Response:
        remaining = self.remaining()
        if remaining <= 0:
            raise CheckFailed("the overall time limit was reached")
        kwargs.setdefault("allow_redirects", False)
        headers = {"User-Agent": USER_AGENT, **(kwargs.pop("headers", None) or {})}
        try:
            return (session or requests).request(
                method,
                url,
                headers=headers,
                timeout=max(0.5, min(self.config.request_timeout, remaining)),
                verify=self.config.verify_tls,
                **kwargs,
            )
        except requests.Timeout:
            raise CheckFailed(f"{method} {short_url(url)}: no answer in time") from None
        except requests.exceptions.SSLError:
            raise CheckFailed(f"{method} {short_url(url)}: TLS error") from None
        except requests.ConnectionError:
            raise CheckFailed(f"{method} {short_url(url)}: connection failed") from None
        except requests.RequestException as exc:
            raise CheckFailed(f"{method} {short_url(url)}: {type(exc).__name__}") from None

    def new_browser(self) -> Browser:
        browser = Browser(self)
        self.browsers.append(browser)
        return browser

    # --- where the relying party is ---------------------------------------------------------------

    def add_rp_uri(self, uri: str) -> None:
        """Treat a redirect to ``uri`` (a registered or deliberately wrong RP URI) as reaching the RP."""
        self._rp_prefixes.append(uri)

    def op_origins(self) -> set[str]:
        origins = {origin_of(self.issuer)}
        for key, value in (self.shared.discovery or {}).items():
            if isinstance(value, str) and (key.endswith("_endpoint") or key == "jwks_uri"):
                origins.add(origin_of(value))
        return origins

    def is_rp_target(self, url: str) -> bool:
        if any(url.startswith(prefix) for prefix in self._rp_prefixes):
            return True
        rp_origins = {origin_of(prefix) for prefix in self._rp_prefixes}
        return origin_of(url) in rp_origins - self.op_origins()

    # --- discovery and keys -----------------------------------------------------------------------

    @property
    def discovery_url(self) -> str:
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"

    def discovery(self) -> dict[str, Any]:
        if self.shared.discovery is not None:
            return self.shared.discovery
        if self.shared.discovery_error is not None:
            raise CheckFailed(self.shared.discovery_error)
        try:
            response = self.http("GET", self.discovery_url)
            if response.status_code != 200:
                raise CheckFailed(f"discovery answered HTTP {response.status_code}")
            document = json_body(response, "discovery")
        except CheckFailed as exc:
            self.shared.discovery_error = f"cannot read the discovery document: {exc}"
            raise CheckFailed(self.shared.discovery_error) from None
        self.shared.discovery = document
        return document

    def endpoint(self, name: str) -> str:
        value = self.discovery().get(name)
        if not isinstance(value, str) or not value:
            raise CheckFailed(f"discovery has no {name}")
        return value

    def fetch_jwks(self) -> tuple[requests.Response, Any]:
        response = self.http("GET", self.endpoint("jwks_uri"))
        if response.status_code != 200:
            raise CheckFailed(f"jwks_uri answered HTTP {response.status_code}")
        try:
            return response, response.json()
        except ValueError:
            raise CheckFailed("jwks_uri: the body is not valid JSON") from None

    def key_set(self, *, refresh: bool = False) -> jwk.JWKSet:
        if self.shared.jwks is None or refresh:
            _, document = self.fetch_jwks()
            try:
                self.shared.jwks = jwk.JWKSet.from_json(json.dumps(document))
            except (JWException, ValueError, TypeError) as exc:
                raise CheckFailed(f"jwks_uri: not a valid JWK set ({type(exc).__name__})") from None
        return self.shared.jwks

    def check_jwks_kids(self) -> None:
        """Every published key has a ``kid``, and no two share one."""
        _, document = self.fetch_jwks()
        keys = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(keys, list) or not keys:
            raise CheckFailed("jwks_uri: no keys array")
        kids = [key.get("kid") if isinstance(key, dict) else None for key in keys]
        if any(not isinstance(kid, str) or not kid for kid in kids):
            raise CheckFailed("jwks_uri: a key has no kid")
        duplicates = sorted(kid for kid, n in Counter(kids).items() if n > 1)
        if duplicates:
            raise CheckFailed(f"jwks_uri: duplicate kid {', '.join(duplicates)}")


# --------------------------------------------------------------------------------------------------
# The browser
# --------------------------------------------------------------------------------------------------


@dataclass
class Landing:
    """Where a navigation ended: a redirect to the relying party (not followed), or a page."""

    response: requests.Response
    rp_location: str | None = None


class Browser:
    """One user agent with its own cookie jar, following the provider's redirects like a browser."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.session = requests.Session()

    def navigate(
        self,
        method: str,
        url: str,
        *,
        data: list[tuple[str, str]] | dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Landing:
        for _ in range(MAX_REDIRECTS):
            response = self.ctx.http(method, url, session=self.session, data=data, headers=headers)
            location = response.headers.get("Location")
            if response.status_code in {301, 302, 303, 307, 308} and location:
                target = urljoin(response.url, location)
                if self.ctx.is_rp_target(target):
                    return Landing(response=response, rp_location=target)
                if response.status_code not in {307, 308}:
                    method, data = "GET", None
                headers = None
                url = target
                continue
            return Landing(response=response)
        raise CheckFailed(f"more than {MAX_REDIRECTS} redirects from {short_url(url)}")

    def submit(
        self, page: requests.Response, form: Form, *, click: str | None, fill: dict[str, str] | None = None
    ) -> Landing:
        action = urljoin(page.url, form.attrs.get("action") or page.url)
        data = form.submission(click, fill or {})
        headers = {"Referer": page.url, "Origin": origin_of(page.url)}
        if form.attrs.get("method", "get").lower() == "post":
            return self.navigate("POST", action, data=data, headers=headers)
        return self.navigate("GET", add_query(short_url(action), data), headers=headers)


# --------------------------------------------------------------------------------------------------
# The relying party: authorization requests and responses
# --------------------------------------------------------------------------------------------------


@dataclass
class AuthRequest:
    client: Client
    params: dict[str, str]
    redirect_uri: str
    state: str | None
    nonce: str | None
    verifier: str

    @property
    def max_age(self) -> int | None:
        value = self.params.get("max_age")
        return int(value) if value is not None else None

    def url(self, endpoint: str) -> str:
        return add_query(endpoint, self.params)


def new_request(
    ctx: Context,
    *,
    client: Client | None = None,
    scope: str = "openid",
    nonce: bool = True,
    state: bool = True,
    redirect_uri: str | None = None,
    **extra: str | None,
) -> AuthRequest:
    """An authorization code request with PKCE S256, state and nonce; ``extra=None`` removes a key."""
    client = client or ctx.client
    redirect_uri = redirect_uri or ctx.config.redirect_uri
    verifier, challenge = pkce_pair()
    ctx.secret(verifier)
    state_value = secrets.token_urlsafe(16) if state else None
    nonce_value = secrets.token_urlsafe(16) if nonce else None
    params: dict[str, str | None] = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": redirect_uri,
        "scope": scope,
        "state": state_value,
        "nonce": nonce_value,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    params.update(extra)
    return AuthRequest(
        client=client,
        params={key: value for key, value in params.items() if value is not None},
        redirect_uri=redirect_uri,
        state=state_value,
        nonce=nonce_value,
        verifier=verifier,
    )


@dataclass
class AuthOutcome:
    """The end of an authorization request in a browser: the RP redirect, or the page it stopped at."""

    landing: Landing
    logins: int
    consents: int

    @property
    def location(self) -> str | None:
        return self.landing.rp_location

    @property
    def page(self) -> requests.Response:
        return self.landing.response


def authorize(
    ctx: Context,
    browser: Browser,
    req: AuthRequest,
    *,
    method: str = "GET",
    forbid_login: str | None = None,
    forbid_consent: str | None = None,
) -> AuthOutcome:
    """Send ``req`` from ``browser``, sign in and approve consent as the pages come, stop at the RP.

    ``forbid_login`` / ``forbid_consent``: the FAIL detail if that page appears (it must not).
    """
    endpoint = ctx.endpoint("authorization_endpoint")
    if method == "GET":
        landing = browser.navigate("GET", req.url(endpoint))
    else:
        # A form auto-posted by the relying party's page: a cross-origin POST from the RP.
        rp_origin = origin_of(req.redirect_uri)
        landing = browser.navigate(
            "POST",
            endpoint,
            data=req.params,
            headers={"Origin": rp_origin, "Referer": rp_origin + "/"},
        )
    logins = consents = 0
    for _ in range(8):
        if landing.rp_location is not None or not is_html(landing.response):
            break
        forms = forms_of(landing.response.text)
        login_form = next((form for form in forms if form.has_password), None)
        consent_form = next((form for form in forms if form.button("allow") is not None), None)
        if login_form is not None:
            if forbid_login:
                raise CheckFailed(forbid_login)
            if logins:
                raise CheckFailed(
                    "the login page came back right after signing in "
                    f"(wrong credentials for {ctx.config.username}, or a login loop)"
                )
            logins += 1
            fill = {}
            for control in login_form.fields:
                name, kind = control.get("name", ""), control.get("type", "text").lower()
                if kind == "password":
                    fill[name] = ctx.config.password
                elif name in {"username", "login", "email"} or kind == "email":
                    fill[name] = ctx.config.username
            landing = browser.submit(landing.response, login_form, click=None, fill=fill)
        elif consent_form is not None:
            if forbid_consent:
                raise CheckFailed(forbid_consent)
            if consents:
                raise CheckFailed("the consent page came back right after approving it")
            consents += 1
            landing = browser.submit(landing.response, consent_form, click="allow")
        else:
            break
    return AuthOutcome(landing=landing, logins=logins, consents=consents)


def callback_params(ctx: Context, req: AuthRequest, location: str) -> dict[str, str]:
    """Check an authorization response (redirect target, ``iss``, ``state``) and return its parameters."""
    parts = urlsplit(location)
    expected = urlsplit(req.redirect_uri)
    if (parts.scheme, parts.netloc, parts.path) != (expected.scheme, expected.netloc, expected.path):
        raise CheckFailed(
            f"the authorization response went to {short_url(location)}, not to {short_url(req.redirect_uri)}"
        )
    fragment = dict(parse_qsl(parts.fragment))
    if "code" in fragment or "error" in fragment:
        raise CheckFailed("the authorization response is in the URL fragment, not the query")
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    registered = parse_qsl(expected.query, keep_blank_values=True)
    pairs = [pair for pair in pairs if pair not in registered]
    names = [name for name, _ in pairs]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise CheckFailed(f"the authorization response repeats {', '.join(repeated)}")
    params = dict(pairs)
    ctx.secret(params.get("code"))
    if "iss" in params:
        if params["iss"] != ctx.issuer:
            raise CheckFailed(f"the authorization response has iss={params['iss']!r}, not the issuer")
    elif ctx.discovery().get("authorization_response_iss_parameter_supported") is True:
        raise CheckFailed(
            "the authorization response has no iss parameter although "
            "authorization_response_iss_parameter_supported is true (RFC 9207)"
        )
    if req.state is not None and params.get("state") != req.state:
        if "state" not in params:
            raise CheckFailed("the authorization response does not echo state")
        raise CheckFailed("the authorization response has a different state from the one sent")
    if req.state is None and "state" in params:
        raise CheckFailed("the authorization response has a state although none was sent")
    return params


def expect_code(ctx: Context, req: AuthRequest, outcome: AuthOutcome, what: str = "the request") -> str:
    """The authorization code of a successful response, or a FAIL that says what happened instead."""
    if outcome.location is None:
        raise CheckFailed(f"{what} did not come back to the relying party: {describe_page(outcome.page)}")
    params = callback_params(ctx, req, outcome.location)
    if "error" in params:
        description = params.get("error_description")
        raise CheckFailed(
            f"{what} was answered with error={params['error']}" + (f" ({description})" if description else "")
        )
    code = params.get("code")
    if not code:
        raise CheckFailed(f"{what}: the authorization response has neither code nor error")
    return code


def expect_error_page(outcome: AuthOutcome, what: str) -> None:
    """PASS condition of the 'error page, no redirect' modules."""
    if outcome.location is not None:
        raise CheckFailed(f"{what}: redirected to {short_url(outcome.location)} instead of an error page")
    page = outcome.page
    if page.status_code >= 500:
        raise CheckFailed(f"{what}: server error, {describe_page(page)}")
    if not is_html(page) or not (page.status_code == 200 or 400 <= page.status_code < 500):
        raise CheckFailed(f"{what}: not an error page for the user: {describe_page(page)}")


# --------------------------------------------------------------------------------------------------
# The relying party: token endpoint, ID tokens, userinfo
# --------------------------------------------------------------------------------------------------


def token_request(
    ctx: Context, data: dict[str, str], *, client: Client, auth: str = "basic"
) -> requests.Response:
    data = dict(data)
    kwargs: dict[str, Any] = {}
    if auth == "basic":
        # RFC 6749 §2.3.1: form-encode the client id and secret before HTTP Basic.
        kwargs["auth"] = (quote_plus(client.client_id), quote_plus(client.secret))
    else:
        data.update(client_id=client.client_id, client_secret=client.secret)
    return ctx.http(
        "POST", ctx.endpoint("token_endpoint"), data=data, headers={"Accept": "application/json"}, **kwargs
    )


def exchange_code(
    ctx: Context, req: AuthRequest, code: str, *, auth: str = "basic", client: Client | None = None
) -> requests.Response:
    return token_request(
        ctx,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": req.redirect_uri,
            "code_verifier": req.verifier,
        },
        client=client or req.client,
        auth=auth,
    )


def check_token_response(
    ctx: Context, response: requests.Response, *, what: str = "token endpoint", id_token: bool = True
) -> dict[str, Any]:
    if response.status_code != 200:
        raise CheckFailed(f"{what} answered HTTP {response.status_code} ({error_of(response)})")
    body = json_body(response, what)
    for name in ("access_token", "refresh_token", "id_token"):
        if isinstance(body.get(name), str):
            ctx.secret(body[name])
    if not isinstance(body.get("access_token"), str) or not body["access_token"]:
        raise CheckFailed(f"{what}: no access_token")
    if str(body.get("token_type", "")).lower() != "bearer":
        raise CheckFailed(f"{what}: token_type is {body.get('token_type')!r}, not Bearer")
    if id_token and (not isinstance(body.get("id_token"), str) or not body["id_token"]):
        raise CheckFailed(f"{what}: no id_token")
    if "expires_in" in body and (
        isinstance(body["expires_in"], bool) or not isinstance(body["expires_in"], int | float)
    ):
        raise CheckFailed(f"{what}: expires_in is not a number")
    if "no-store" not in response.headers.get("Cache-Control", "").lower():
        raise CheckFailed(f"{what}: no Cache-Control: no-store (OIDC Core 3.1.3.3)")
    return body


def check_error_body(response: requests.Response, what: str, expected: str) -> None:
    """A 400 JSON OAuth error with ``error == expected`` and syntactically valid members."""
    if response.status_code != 400:
        raise CheckFailed(
            f"{what}: HTTP {response.status_code} ({error_of(response)}), expected 400 {expected}"
        )
    body = json_body(response, what)
    error = body.get("error")
    if not isinstance(error, str) or not _ERROR_CHARS.match(error):
        raise CheckFailed(f"{what}: the error body has no valid error member")
    description = body.get("error_description")
    if description is not None and (not isinstance(description, str) or not _ERROR_CHARS.match(description)):
        raise CheckFailed(f"{what}: error_description has characters RFC 6749 §5.2 does not allow")
    if "error_uri" in body and not isinstance(body["error_uri"], str):
        raise CheckFailed(f"{what}: error_uri is not a string")
    if error != expected:
        raise CheckFailed(f"{what}: error={error}, expected {expected}")


_UNSET: Any = object()


def jwt_parts(raw: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and claims of a compact JWS, unverified."""
    pieces = raw.split(".")
    if len(pieces) != 3:
        raise CheckFailed("the ID token is not a compact JWS (three dot-separated parts)")
    try:
        header = json.loads(b64url_decode(pieces[0]))
        claims = json.loads(b64url_decode(pieces[1]))
    except (ValueError, UnicodeDecodeError):
        raise CheckFailed("the ID token header or payload is not base64url JSON") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise CheckFailed("the ID token header or payload is not a JSON object")
    return header, claims


def _verification_keys(ctx: Context, kid: str | None) -> list[jwk.JWK]:
    for refresh in (False, True):
        keys = ctx.key_set(refresh=refresh)
        if kid is not None:
            found = keys.get_key(kid)
            if found is not None:
                return [found]
        else:
            candidates = [key for key in keys["keys"] if key.get("kty") == "RSA"]
            if candidates:
                return candidates
    raise CheckFailed(f"no key with kid {kid!r} in jwks_uri" if kid else "no RSA key in jwks_uri")


def verify_id_token(
    ctx: Context,
    raw: str,
    *,
    client: Client,
    nonce: str | None = _UNSET,
    access_token: str | None = None,
    max_age: int | None = None,
    what: str = "ID token",
) -> dict[str, Any]:
    """Verify an RS256 ID token against jwks_uri and check its claims; ``nonce=None``: none was sent."""
    header, claims = jwt_parts(raw)
    alg = header.get("alg")
    if alg != "RS256":
        raise CheckFailed(f"{what} is signed with alg={alg!r}, not RS256")
    kid = header.get("kid")
    verified = False
    for key in _verification_keys(ctx, kid if isinstance(kid, str) else None):
        token = jws.JWS()
        try:
            token.deserialize(raw)
            token.verify(key, alg="RS256")
            verified = True
            break
        except (JWException, ValueError):
            continue
    if not verified:
        raise CheckFailed(f"{what}: the RS256 signature does not verify with the key from jwks_uri")

    now = time.time()
    if claims.get("iss") != ctx.issuer:
        raise CheckFailed(f"{what}: iss is {claims.get('iss')!r}, not the issuer {ctx.issuer!r}")
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else None
    if not audiences or client.client_id not in audiences:
        raise CheckFailed(f"{what}: aud {aud!r} does not contain the client_id {client.client_id!r}")
    if len(audiences) > 1 and claims.get("azp") != client.client_id:
        raise CheckFailed(f"{what}: several audiences and azp is not the client_id")
    if "azp" in claims and claims["azp"] != client.client_id:
        raise CheckFailed(f"{what}: azp is {claims['azp']!r}, not the client_id")
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub or len(sub) > 255:
        raise CheckFailed(f"{what}: sub is missing or not a string of 1-255 characters")
    for name in ("exp", "iat"):
        if isinstance(claims.get(name), bool) or not isinstance(claims.get(name), int | float):
            raise CheckFailed(f"{what}: {name} is missing or not a number")
    if claims["exp"] <= now - CLOCK_SKEW:
        raise CheckFailed(f"{what} has expired (exp is {now - claims['exp']:.0f} s in the past)")
    if claims["exp"] < claims["iat"]:
        raise CheckFailed(f"{what}: exp is before iat")
    if abs(claims["iat"] - now) > CLOCK_SKEW:
        raise CheckFailed(f"{what}: iat is {claims['iat'] - now:+.0f} s away from now")
    if "nbf" in claims and (not isinstance(claims["nbf"], int | float) or claims["nbf"] > now + CLOCK_SKEW):
        raise CheckFailed(f"{what}: nbf is not a number or is in the future")
    if nonce is not _UNSET:
        if nonce is not None and claims.get("nonce") != nonce:
            raise CheckFailed(
                f"{what}: " + ("no nonce" if "nonce" not in claims else "nonce differs from the one sent")
            )
        if nonce is None and "nonce" in claims:
            ctx.warn(f"{what} has a nonce although none was sent")
    if "auth_time" in claims:
        auth_time = claims["auth_time"]
        if isinstance(auth_time, bool) or not isinstance(auth_time, int | float):
            raise CheckFailed(f"{what}: auth_time is not a number")
        if auth_time > now + CLOCK_SKEW:
            raise CheckFailed(f"{what}: auth_time is in the future")
    elif max_age is not None:
        raise CheckFailed(f"{what}: no auth_time although max_age was requested (OIDC Core 3.1.2.1)")
    if "acr" in claims and not isinstance(claims["acr"], str):
        raise CheckFailed(f"{what}: acr is not a string")
    if "amr" in claims and (
        not isinstance(claims["amr"], list) or not all(isinstance(v, str) for v in claims["amr"])
    ):
        raise CheckFailed(f"{what}: amr is not an array of strings")
    if "updated_at" in claims and (
        isinstance(claims["updated_at"], bool) or not isinstance(claims["updated_at"], int | float)
    ):
        raise CheckFailed(f"{what}: updated_at is not a number")
    if "at_hash" in claims and access_token is not None:
        digest = hashlib.sha256(access_token.encode("ascii")).digest()
        if claims["at_hash"] != b64url(digest[: len(digest) // 2]):
            raise CheckFailed(f"{what}: at_hash does not match the access token")
    return claims


@dataclass
class Flow:
    """A completed authorization code flow: the request, the browser's outcome and the tokens."""

    req: AuthRequest
    outcome: AuthOutcome
    params: dict[str, str]
    token: dict[str, Any]
    claims: dict[str, Any]

    @property
    def id_token(self) -> str:
        return self.token["id_token"]

    @property
    def access_token(self) -> str:
        return self.token["access_token"]

    @property
    def refresh_token(self) -> str | None:
        value = self.token.get("refresh_token")
        return value if isinstance(value, str) and value else None


def code_flow(
    ctx: Context,
    browser: Browser,
    req: AuthRequest,
    *,
    method: str = "GET",
    auth: str = "basic",
    forbid_login: str | None = None,
    forbid_consent: str | None = None,
    what: str = "the authorization request",
) -> Flow:
    """Authorize in ``browser``, exchange the code, verify the ID token."""
    outcome = authorize(
        ctx, browser, req, method=method, forbid_login=forbid_login, forbid_consent=forbid_consent
    )
    code = expect_code(ctx, req, outcome, what)
    params = callback_params(ctx, req, outcome.location or "")
    token = check_token_response(ctx, exchange_code(ctx, req, code, auth=auth))
    claims = verify_id_token(
        ctx,
        token["id_token"],
        client=req.client,
        nonce=req.nonce,
        access_token=token["access_token"],
        max_age=req.max_age,
    )
    return Flow(req=req, outcome=outcome, params=params, token=token, claims=claims)


def signed_in(ctx: Context, scope: str = "openid", **extra: str | None) -> tuple[Browser, Flow]:
    """A fresh browser in which the user signed in and approved the client (a first complete flow)."""
    browser = ctx.new_browser()
    flow = code_flow(ctx, browser, new_request(ctx, scope=scope, **extra), what="the first authorization")
    return browser, flow


def userinfo(ctx: Context, access_token: str, *, how: str = "get") -> requests.Response:
    endpoint = ctx.endpoint("userinfo_endpoint")
    if how == "get":
        return ctx.http("GET", endpoint, headers={"Authorization": f"Bearer {access_token}"})
    if how == "post-header":
        return ctx.http("POST", endpoint, headers={"Authorization": f"Bearer {access_token}"})
    return ctx.http("POST", endpoint, data={"access_token": access_token})


def userinfo_claims(
    ctx: Context, response: requests.Response, sub: str, what: str = "userinfo"
) -> dict[str, Any]:
    if response.status_code != 200:
        raise CheckFailed(f"{what} answered HTTP {response.status_code} ({error_of(response)})")
    body = json_body(response, what)
    if body.get("sub") != sub:
        raise CheckFailed(f"{what}: sub differs from the ID token's sub")
    return body


def auth_times(first: dict[str, Any], second: dict[str, Any]) -> tuple[int | float, int | float]:
    if "auth_time" not in first or "auth_time" not in second:
        raise CheckFailed("the ID tokens have no auth_time, so re-authentication cannot be verified")
    return first["auth_time"], second["auth_time"]


def remembered(ctx: Context, what: str) -> dict[str, str]:
    """The FAIL details for a login or consent page in a browser that already signed in and consented."""
    return {
        "forbid_login": f"{what}: the login page was shown although {ctx.config.username} "
        "is signed in in this browser",
        "forbid_consent": f"{what}: the consent page was shown again although {ctx.config.username} "
        f"already approved {ctx.config.client_id} for the same scopes in this browser "
        "(remembered consent expected)",
    }


# --------------------------------------------------------------------------------------------------
# Config OP
# --------------------------------------------------------------------------------------------------

_URL_FIELDS = {
    "issuer",
    "authorization_endpoint",
    "token_endpoint",
    "userinfo_endpoint",
    "jwks_uri",
    "registration_endpoint",
    "end_session_endpoint",
    "revocation_endpoint",
    "introspection_endpoint",
    "check_session_iframe",
    "service_documentation",
    "op_policy_uri",
    "op_tos_uri",
    "pushed_authorization_request_endpoint",
    "device_authorization_endpoint",
    "backchannel_authentication_endpoint",
}
_ARRAY_FIELDS = {
    "scopes_supported",
    "response_types_supported",
    "response_modes_supported",
    "grant_types_supported",
    "acr_values_supported",
    "subject_types_supported",
    "id_token_signing_alg_values_supported",
    "id_token_encryption_alg_values_supported",
    "id_token_encryption_enc_values_supported",
    "userinfo_signing_alg_values_supported",
    "userinfo_encryption_alg_values_supported",
    "userinfo_encryption_enc_values_supported",
    "request_object_signing_alg_values_supported",
    "request_object_encryption_alg_values_supported",
    "request_object_encryption_enc_values_supported",
    "token_endpoint_auth_methods_supported",
    "token_endpoint_auth_signing_alg_values_supported",
    "display_values_supported",
    "claim_types_supported",
    "claims_supported",
    "claims_locales_supported",
    "ui_locales_supported",
    "code_challenge_methods_supported",
    "revocation_endpoint_auth_methods_supported",
    "revocation_endpoint_auth_signing_alg_values_supported",
    "introspection_endpoint_auth_methods_supported",
    "introspection_endpoint_auth_signing_alg_values_supported",
    "prompt_values_supported",
    "dpop_signing_alg_values_supported",
    "authorization_signing_alg_values_supported",
    "authorization_encryption_alg_values_supported",
    "authorization_encryption_enc_values_supported",
    "backchannel_token_delivery_modes_supported",
    "backchannel_authentication_request_signing_alg_values_supported",
}
_BOOLEAN_FIELDS = {
    "claims_parameter_supported",
    "request_parameter_supported",
    "request_uri_parameter_supported",
    "require_request_uri_registration",
    "frontchannel_logout_supported",
    "frontchannel_logout_session_supported",
    "backchannel_logout_supported",
    "backchannel_logout_session_supported",
    "authorization_response_iss_parameter_supported",
    "tls_client_certificate_bound_access_tokens",
    "require_pushed_authorization_requests",
    "backchannel_user_code_parameter_supported",
    "require_signed_request_object",
}
_OTHER_FIELDS = {"mtls_endpoint_aliases", "signed_metadata"}
_PRIVATE_JWK_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


def _validate_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in {"http", "https"} and bool(parts.netloc) and not parts.fragment


def _check_discovery_document(ctx: Context, response: requests.Response) -> dict[str, Any]:
    if response.status_code != 200:
        raise CheckFailed(f"discovery answered HTTP {response.status_code}")
    doc = json_body(response, "discovery")

    issuer = doc.get("issuer")
    if issuer != ctx.issuer:
        raise CheckFailed(f"issuer is {issuer!r}, not {ctx.issuer!r} (the URL the document was fetched from)")
    issuer_parts = urlsplit(issuer)
    if not _validate_url(issuer) or issuer_parts.query:
        raise CheckFailed("issuer is not a URL without query and fragment")

    # Schema: types of the known members; unknown members are a warning.
    for name, value in doc.items():
        if name in _URL_FIELDS and not _validate_url(value):
            raise CheckFailed(f"{name} is not an absolute http(s) URL")
        if name in _ARRAY_FIELDS and (
            not isinstance(value, list) or not all(isinstance(item, str) for item in value)
        ):
            raise CheckFailed(f"{name} is not an array of strings")
        if name in _BOOLEAN_FIELDS and not isinstance(value, bool):
            raise CheckFailed(f"{name} is not a boolean")
    if "mtls_endpoint_aliases" in doc and not isinstance(doc["mtls_endpoint_aliases"], dict):
        raise CheckFailed("mtls_endpoint_aliases is not an object")
    unexpected = sorted(set(doc) - _URL_FIELDS - _ARRAY_FIELDS - _BOOLEAN_FIELDS - _OTHER_FIELDS)
    if unexpected:
        ctx.warn(f"unexpected discovery fields: {', '.join(unexpected)}")

    for name in (
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "response_types_supported",
        "subject_types_supported",
        "id_token_signing_alg_values_supported",
    ):
        if name not in doc:
            raise CheckFailed(f"{name} is missing")
    if "code" not in doc["response_types_supported"]:
        raise CheckFailed("response_types_supported does not contain code")
    subject_types = doc["subject_types_supported"]
    if not subject_types or not set(subject_types) <= {"public", "pairwise"}:
        raise CheckFailed(
            f"subject_types_supported {subject_types!r} is not a non-empty subset of public, pairwise"
        )
    if "RS256" not in doc["id_token_signing_alg_values_supported"]:
        raise CheckFailed("id_token_signing_alg_values_supported does not contain RS256")
    if "claims_supported" not in doc:
        ctx.warn("claims_supported is missing")
    if "grant_types_supported" in doc and not doc["grant_types_supported"]:
        raise CheckFailed("grant_types_supported is an empty array")
    scopes = doc.get("scopes_supported")
    if scopes is None:
        ctx.warn("scopes_supported is missing")
    else:
        if "openid" not in scopes:
            raise CheckFailed("scopes_supported does not contain openid")
        bad = [scope for scope in scopes if not _SCOPE_TOKEN.match(scope)]
        if bad:
            raise CheckFailed(f"scopes_supported has invalid scope tokens: {bad!r}")
    for name in ("claims_locales_supported", "ui_locales_supported"):
        bad = [loc for loc in doc.get(name, []) if not _LOCALE.match(loc)]
        if bad:
            raise CheckFailed(f"{name} has invalid language tags: {bad!r}")
    if "code_challenge_methods_supported" not in doc:
        ctx.warn("code_challenge_methods_supported is missing")
    elif "S256" not in doc["code_challenge_methods_supported"]:
        ctx.warn("code_challenge_methods_supported does not contain S256")

    # All endpoints https (a loopback development issuer cannot be: a warning there).
    endpoint_values: list[tuple[str, str]] = [
        (name, value)
        for name, value in doc.items()
        if isinstance(value, str)
        and (name.endswith("_endpoint") or name in {"issuer", "jwks_uri", "check_session_iframe"})
    ]
    for name, value in (doc.get("mtls_endpoint_aliases") or {}).items():
        if isinstance(value, str):
            endpoint_values.append((f"mtls_endpoint_aliases.{name}", value))
    plain = [name for name, value in endpoint_values if urlsplit(value).scheme != "https"]
    if plain:
        message = f"not https: {', '.join(plain)}"
        if issuer_parts.scheme == "http" and is_loopback_url(ctx.issuer):
            ctx.warn(message + " (accepted for a loopback development issuer only)")
        else:
            raise CheckFailed(message)
    return doc


def _check_jwks_document(ctx: Context, response: requests.Response, document: Any) -> None:
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if content_type not in {"application/json", "application/jwk-set+json"}:
        raise CheckFailed(f"jwks_uri: Content-Type is {content_type or 'missing'}")
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list) or not keys:
        raise CheckFailed("jwks_uri: not a JWK set with a non-empty keys array")
    usable = False
    for index, key in enumerate(keys):
        if not isinstance(key, dict):
            raise CheckFailed(f"jwks_uri: key #{index} is not an object")
        private = sorted(_PRIVATE_JWK_MEMBERS & set(key))
        if private:
            raise CheckFailed(f"jwks_uri: key #{index} publishes private key material ({', '.join(private)})")
        try:
            imported = jwk.JWK(**key)
        except (JWException, ValueError, TypeError):
            raise CheckFailed(f"jwks_uri: key #{index} is not a valid JWK") from None
        if key.get("kty") == "RSA":
            size = len(b64url_decode(key.get("n", ""))) * 8
            if size < 2048:
                ctx.warn(f"jwks_uri: RSA key {key.get('kid')!r} has only {size} bits")
            if key.get("use", "sig") == "sig" and key.get("alg", "RS256") == "RS256":
                usable = True
        del imported
    if not usable:
        raise CheckFailed("jwks_uri: no RSA signing key usable for RS256")
    ctx.check_jwks_kids()


@module(
    "oidcc-discovery-endpoint-verification",
    "config",
    "The discovery document, its issuer, its members and the JWKS are valid",
)
def discovery_endpoint_verification(ctx: Context) -> tuple[Status, str]:
    response = ctx.http("GET", ctx.discovery_url)
    doc = _check_discovery_document(ctx, response)
    ctx.shared.discovery = ctx.shared.discovery or doc
    jwks_response, jwks_document = ctx.fetch_jwks()
    _check_jwks_document(ctx, jwks_response, jwks_document)
    return ctx.verdict()


# --------------------------------------------------------------------------------------------------
# Basic OP
# --------------------------------------------------------------------------------------------------


@module("oidcc-server", "basic", "The happy code flow: state, nonce, iss, tokens, ID token, userinfo")
def server(ctx: Context) -> tuple[Status, str]:
    ctx.check_jwks_kids()
    browser = ctx.new_browser()
    flow = code_flow(ctx, browser, new_request(ctx))
    userinfo_claims(ctx, userinfo(ctx, flow.access_token), flow.claims["sub"])
    return ctx.verdict()


@module(
    "oidcc-response-type-missing",
    "basic",
    "No response_type: an unsupported_response_type/invalid_request response, or an error page",
)
def response_type_missing(ctx: Context) -> tuple[Status, str]:
    req = new_request(ctx, response_type=None)
    outcome = authorize(ctx, ctx.new_browser(), req)
    if outcome.location is None:
        expect_error_page(outcome, "a request without response_type")
        return ctx.verdict()
    params = callback_params(ctx, req, outcome.location)
    if "code" in params:
        raise CheckFailed("a code was issued for a request without response_type")
    if params.get("error") not in {"unsupported_response_type", "invalid_request"}:
        raise CheckFailed(
            f"error={params.get('error')!r}, expected unsupported_response_type or invalid_request"
        )
    return ctx.verdict()


@module("oidcc-idtoken-signature", "basic", "The ID token is RS256-signed and verifies against jwks_uri")
def idtoken_signature(ctx: Context) -> tuple[Status, str]:
    _, flow = signed_in(ctx)
    header, _ = jwt_parts(flow.id_token)
    if header.get("alg") != "RS256":  # verify_id_token already insists; kept explicit
        raise CheckFailed(f"alg is {header.get('alg')!r}")
    return ctx.verdict()


@module("oidcc-idtoken-unsigned", "basic", "alg none ID tokens, only if the provider advertises them")
def idtoken_unsigned(ctx: Context) -> tuple[Status, str]:
    if "none" not in (ctx.discovery().get("id_token_signing_alg_values_supported") or []):
        raise ModuleSkipped("alg none is not in id_token_signing_alg_values_supported (acceptable)")
    browser = ctx.new_browser()
    req = new_request(ctx)
    code = expect_code(ctx, req, authorize(ctx, browser, req))
    token = check_token_response(ctx, exchange_code(ctx, req, code))
    header, claims = jwt_parts(token["id_token"])
    if header.get("alg") == "none":
        if claims.get("iss") != ctx.issuer or claims.get("nonce") != req.nonce:
            raise CheckFailed("the unsigned ID token has the wrong iss or nonce")
        return ctx.verdict()
    verify_id_token(ctx, token["id_token"], client=req.client, nonce=req.nonce)
    ctx.warn("none is advertised but the static client gets signed ID tokens (register it for none to test)")
    return ctx.verdict()


def _userinfo_module(ctx: Context, how: str) -> tuple[Status, str]:
    _, flow = signed_in(ctx)
    response = userinfo(ctx, flow.access_token, how=how)
    if how == "post-body" and response.status_code != 200:
        ctx.warn(f"an access token in the POST body is not accepted (HTTP {response.status_code})")
        return ctx.verdict()
    userinfo_claims(ctx, response, flow.claims["sub"])
    return ctx.verdict()


@module("oidcc-userinfo-get", "basic", "userinfo with the Bearer header in a GET")
def userinfo_get(ctx: Context) -> tuple[Status, str]:
    return _userinfo_module(ctx, "get")


@module("oidcc-userinfo-post-header", "basic", "userinfo with the Bearer header in a POST")
def userinfo_post_header(ctx: Context) -> tuple[Status, str]:
    return _userinfo_module(ctx, "post-header")


@module("oidcc-userinfo-post-body", "basic", "userinfo with the access token in the POST body")
def userinfo_post_body(ctx: Context) -> tuple[Status, str]:
    return _userinfo_module(ctx, "post-body")


@module(
    "oidcc-ensure-request-without-nonce-succeeds-for-code-flow",
    "basic",
    "nonce is optional in the code flow",
)
def request_without_nonce(ctx: Context) -> tuple[Status, str]:
    code_flow(ctx, ctx.new_browser(), new_request(ctx, nonce=False))
    return ctx.verdict()


SCOPE_CLAIMS: dict[str, tuple[str, ...]] = {
    "profile": (
        "name",
        "family_name",
        "given_name",
        "middle_name",
        "nickname",
        "preferred_username",
        "profile",
        "picture",
        "website",
        "gender",
        "birthdate",
        "zoneinfo",
        "locale",
        "updated_at",
    ),
    "email": ("email", "email_verified"),
    "address": ("address",),
    "phone": ("phone_number", "phone_number_verified"),
}


def _check_claim_types(claims: dict[str, Any]) -> None:
    for name in ("email_verified", "phone_number_verified"):
        if name in claims and not isinstance(claims[name], bool):
            raise CheckFailed(f"userinfo: {name} is not a boolean")
    if "address" in claims and not isinstance(claims["address"], dict):
        raise CheckFailed("userinfo: address is not a JSON object")
    if "updated_at" in claims and (
        isinstance(claims["updated_at"], bool) or not isinstance(claims["updated_at"], int | float)
    ):
        raise CheckFailed("userinfo: updated_at is not a number")


def _scope_module(ctx: Context, scopes: list[str]) -> tuple[Status, str]:
    supported = ctx.discovery().get("scopes_supported")
    if isinstance(supported, list):
        missing = [scope for scope in scopes if scope not in supported]
        if missing:
            ctx.warn(f"scopes not in scopes_supported: {', '.join(missing)}")
    _, flow = signed_in(ctx, scope=" ".join(["openid", *scopes]))
    claims = userinfo_claims(ctx, userinfo(ctx, flow.access_token), flow.claims["sub"])
    _check_claim_types(claims)
    for scope in scopes:
        if not any(name in claims for name in SCOPE_CLAIMS[scope]):
            ctx.warn(f"userinfo has none of the {scope} claims")
    return ctx.verdict()


@module("oidcc-scope-profile", "basic", "profile claims from userinfo")
def scope_profile(ctx: Context) -> tuple[Status, str]:
    return _scope_module(ctx, ["profile"])


@module("oidcc-scope-email", "basic", "email claims from userinfo")
def scope_email(ctx: Context) -> tuple[Status, str]:
    return _scope_module(ctx, ["email"])


@module("oidcc-scope-address", "basic", "the address claim from userinfo")
def scope_address(ctx: Context) -> tuple[Status, str]:
    return _scope_module(ctx, ["address"])


@module("oidcc-scope-phone", "basic", "phone claims from userinfo")
def scope_phone(ctx: Context) -> tuple[Status, str]:
    return _scope_module(ctx, ["phone"])


@module("oidcc-scope-all", "basic", "profile, email, address and phone together")
def scope_all(ctx: Context) -> tuple[Status, str]:
    return _scope_module(ctx, ["profile", "email", "address", "phone"])


@module("oidcc-alternate-happy-flow", "basic", "Reversed scope order and shuffled parameters still succeed")
def alternate_happy_flow(ctx: Context) -> tuple[Status, str]:
    req = new_request(ctx, scope="email profile openid")
    req.params = dict(reversed(list(req.params.items())))
    flow = code_flow(ctx, ctx.new_browser(), req)
    userinfo_claims(ctx, userinfo(ctx, flow.access_token), flow.claims["sub"])
    return ctx.verdict()


@module("oidcc-display-page", "basic", "display=page does not cause an error")
def display_page(ctx: Context) -> tuple[Status, str]:
    code_flow(ctx, ctx.new_browser(), new_request(ctx, display="page"))
    return ctx.verdict()


@module("oidcc-display-popup", "basic", "display=popup does not cause an error")
def display_popup(ctx: Context) -> tuple[Status, str]:
    code_flow(ctx, ctx.new_browser(), new_request(ctx, display="popup"))
    return ctx.verdict()


@module("oidcc-prompt-login", "basic", "prompt=login forces a new sign-in; auth_time moves forward")
def prompt_login(ctx: Context) -> tuple[Status, str]:
    browser, first = signed_in(ctx)
    ctx.sleep(1.1)
    second = code_flow(ctx, browser, new_request(ctx, prompt="login"), what="the prompt=login request")
    if second.outcome.logins == 0:
        raise CheckFailed("prompt=login did not show the login page although the user was signed in")
    before, after = auth_times(first.claims, second.claims)
    if not after > before:
        raise CheckFailed(f"auth_time did not move forward after prompt=login ({before} then {after})")
    if second.claims["sub"] != first.claims["sub"]:
        raise CheckFailed("sub changed between the two sign-ins")
    return ctx.verdict()


@module(
    "oidcc-prompt-none-not-logged-in",
    "basic",
    "prompt=none without a session redirects back with login_required (or similar)",
)
def prompt_none_not_logged_in(ctx: Context) -> tuple[Status, str]:
    req = new_request(ctx, prompt="none")
    outcome = authorize(
        ctx,
        ctx.new_browser(),
        req,
        forbid_login="prompt=none showed the login page instead of redirecting with login_required",
        forbid_consent="prompt=none showed the consent page",
    )
    if outcome.location is None:
        raise CheckFailed(f"prompt=none did not redirect back: {describe_page(outcome.page)}")
    params = callback_params(ctx, req, outcome.location)
    if "code" in params:
        raise CheckFailed("prompt=none without any session returned a code")
    allowed = {"login_required", "interaction_required", "consent_required", "account_selection_required"}
    if params.get("error") not in allowed:
        raise CheckFailed(f"error={params.get('error')!r}, expected one of {', '.join(sorted(allowed))}")
    return ctx.verdict()


@module(
    "oidcc-prompt-none-logged-in",
    "basic",
    "A second request with prompt=none succeeds silently; sub and auth_time are consistent",
)
def prompt_none_logged_in(ctx: Context) -> tuple[Status, str]:
    browser, first = signed_in(ctx)
    what = "the second request, with prompt=none"
    req = new_request(ctx, prompt="none")
    outcome = authorize(ctx, browser, req, **remembered(ctx, what))
    code = _silent_code(ctx, req, outcome, what)
    token = check_token_response(ctx, exchange_code(ctx, req, code))
    claims = verify_id_token(ctx, token["id_token"], client=req.client, nonce=req.nonce)
    if claims["sub"] != first.claims["sub"]:
        raise CheckFailed("sub differs from the first ID token's")
    _same_auth_time_if_present(first.claims, claims)
    return ctx.verdict()


def _same_auth_time_if_present(first: dict[str, Any], second: dict[str, Any]) -> None:
    """The suite's CheckIdTokenAuthTimeClaimsSameIfPresent: no new sign-in, so the same auth_time."""
    if "auth_time" in first and "auth_time" in second and first["auth_time"] != second["auth_time"]:
        raise CheckFailed(
            "auth_time differs from the first ID token's although no new sign-in happened "
            f"({first['auth_time']} then {second['auth_time']})"
        )


def _silent_code(ctx: Context, req: AuthRequest, outcome: AuthOutcome, what: str) -> str:
    """The code of a prompt=none request in a signed-in, consented browser; clear FAILs otherwise."""
    if outcome.location is not None:
        params = callback_params(ctx, req, outcome.location)
        if params.get("error") == "consent_required":
            raise CheckFailed(
                f"{what} was answered with consent_required although {ctx.config.username} already "
                f"approved {ctx.config.client_id} for the same scopes in this browser "
                "(remembered consent expected)"
            )
        if params.get("error") in {"login_required", "interaction_required"}:
            raise CheckFailed(
                f"{what} was answered with {params['error']} although the user is signed in in this browser"
            )
    return expect_code(ctx, req, outcome, what)


@module("oidcc-max-age-1", "basic", "max_age=1 after a second forces a new sign-in; auth_time present")
def max_age_1(ctx: Context) -> tuple[Status, str]:
    browser, first = signed_in(ctx)
    ctx.sleep(1.5)
    second = code_flow(ctx, browser, new_request(ctx, max_age="1"), what="the max_age=1 request")
    if second.outcome.logins == 0:
        raise CheckFailed("max_age=1 did not show the login page although the sign-in was over 1 s old")
    before, after = auth_times(first.claims, second.claims)
    if not after > before:
        raise CheckFailed(f"auth_time did not move forward after re-authentication ({before} then {after})")
    return ctx.verdict()


@module(
    "oidcc-max-age-10000", "basic", "max_age=10000 needs no new sign-in; auth_time present and consistent"
)
def max_age_10000(ctx: Context) -> tuple[Status, str]:
    # As the suite: max_age=15000 first, so that auth_time must be in both ID tokens.
    browser, first = signed_in(ctx, max_age="15000")
    what = "the second request, with max_age=10000"
    second = code_flow(ctx, browser, new_request(ctx, max_age="10000"), what=what, **remembered(ctx, what))
    if second.claims["sub"] != first.claims["sub"]:
        raise CheckFailed("sub differs from the first ID token's")
    _same_auth_time_if_present(first.claims, second.claims)
    return ctx.verdict()


@module(
    "oidcc-ensure-request-with-unknown-parameter-succeeds",
    "basic",
    "An unknown parameter is ignored",
)
def unknown_parameter(ctx: Context) -> tuple[Status, str]:
    code_flow(ctx, ctx.new_browser(), new_request(ctx, extra="foobar"))
    return ctx.verdict()


@module("oidcc-id-token-hint", "basic", "prompt=none with id_token_hint succeeds silently; sub matches")
def id_token_hint(ctx: Context) -> tuple[Status, str]:
    browser, first = signed_in(ctx)
    what = "the second request, with prompt=none and id_token_hint"
    req = new_request(ctx, prompt="none", id_token_hint=first.id_token)
    outcome = authorize(ctx, browser, req, **remembered(ctx, what))
    code = _silent_code(ctx, req, outcome, what)
    token = check_token_response(ctx, exchange_code(ctx, req, code))
    claims = verify_id_token(ctx, token["id_token"], client=req.client, nonce=req.nonce)
    if claims["sub"] != first.claims["sub"]:
        raise CheckFailed("sub differs from the id_token_hint's")
    _same_auth_time_if_present(first.claims, claims)
    return ctx.verdict()


@module("oidcc-login-hint", "basic", "login_hint does not cause an error")
def login_hint(ctx: Context) -> tuple[Status, str]:
    code_flow(ctx, ctx.new_browser(), new_request(ctx, login_hint=ctx.config.username))
    return ctx.verdict()


@module("oidcc-ui-locales", "basic", "ui_locales does not cause an error")
def ui_locales(ctx: Context) -> tuple[Status, str]:
    code_flow(ctx, ctx.new_browser(), new_request(ctx, ui_locales="se"))
    return ctx.verdict()


@module("oidcc-claims-locales", "basic", "claims_locales does not cause an error")
def claims_locales(ctx: Context) -> tuple[Status, str]:
    code_flow(ctx, ctx.new_browser(), new_request(ctx, claims_locales="se"))
    return ctx.verdict()


@module(
    "oidcc-ensure-request-with-acr-values-succeeds",
    "basic",
    "acr_values succeeds; a warning unless a requested acr comes back",
)
def acr_values(ctx: Context) -> tuple[Status, str]:
    requested = ["1", "2"]
    flow = code_flow(ctx, ctx.new_browser(), new_request(ctx, acr_values=" ".join(requested)))
    acr = flow.claims.get("acr")
    if acr is None:
        ctx.warn("no acr in ID token")
    elif acr not in requested:
        ctx.warn(f"acr {acr!r} is not one of the requested acr_values")
    return ctx.verdict()


def _first_exchange(ctx: Context) -> tuple[AuthRequest, str, dict[str, Any], dict[str, Any]]:
    browser = ctx.new_browser()
    req = new_request(ctx)
    code = expect_code(ctx, req, authorize(ctx, browser, req))
    token = check_token_response(ctx, exchange_code(ctx, req, code))
    claims = verify_id_token(
        ctx, token["id_token"], client=req.client, nonce=req.nonce, access_token=token["access_token"]
    )
    return req, code, token, claims


@module("oidcc-codereuse", "basic", "A second exchange of the same code gets 400 invalid_grant")
def codereuse(ctx: Context) -> tuple[Status, str]:
    req, code, _, _ = _first_exchange(ctx)
    check_error_body(exchange_code(ctx, req, code), "the second exchange of the code", "invalid_grant")
    return ctx.verdict()


@module(
    "oidcc-codereuse-30seconds",
    "basic",
    "Code reuse later: invalid_grant, and the first access token should be revoked",
)
def codereuse_30seconds(ctx: Context) -> tuple[Status, str]:
    req, code, token, claims = _first_exchange(ctx)
    userinfo_claims(ctx, userinfo(ctx, token["access_token"]), claims["sub"], "userinfo before the reuse")
    ctx.sleep(30.0 if ctx.config.slow else 1.0)
    check_error_body(exchange_code(ctx, req, code), "the second exchange of the code", "invalid_grant")
    after = userinfo(ctx, token["access_token"])
    if after.status_code == 200:
        ctx.warn("the access token of the first exchange still works at userinfo after the code was reused")
    elif after.status_code != 401:
        ctx.warn(f"userinfo answered HTTP {after.status_code}, not 401, for the revoked access token")
    return ctx.verdict()


@module(
    "oidcc-ensure-registered-redirect-uri",
    "basic",
    "An unregistered redirect_uri gets an error page, never a redirect",
)
def registered_redirect_uri(ctx: Context) -> tuple[Status, str]:
    bad_uri = ctx.config.redirect_uri.split("?")[0] + "-selftest-unregistered"
    ctx.add_rp_uri(bad_uri)
    outcome = authorize(ctx, ctx.new_browser(), new_request(ctx, redirect_uri=bad_uri))
    expect_error_page(outcome, "an unregistered redirect_uri")
    return ctx.verdict()


@module(
    "oidcc-ensure-post-request-succeeds",
    "basic",
    "The authorization request as a form POST completes normally",
)
def post_request(ctx: Context) -> tuple[Status, str]:
    browser, _ = signed_in(ctx)
    code_flow(ctx, browser, new_request(ctx), method="POST", what="the POSTed authorization request")
    return ctx.verdict()


@module("oidcc-server-client-secret-post", "basic", "The happy flow with client_secret_post")
def server_client_secret_post(ctx: Context) -> tuple[Status, str]:
    methods = ctx.discovery().get("token_endpoint_auth_methods_supported")
    if isinstance(methods, list) and "client_secret_post" not in methods:
        raise ModuleSkipped("client_secret_post is not in token_endpoint_auth_methods_supported")
    flow = code_flow(ctx, ctx.new_browser(), new_request(ctx), auth="post")
    userinfo_claims(ctx, userinfo(ctx, flow.access_token), flow.claims["sub"])
    return ctx.verdict()


def _unsigned_request_object(ctx: Context, claims: dict[str, Any]) -> str:
    header = {"alg": "none"}
    body = {"iss": ctx.client.client_id, "aud": ctx.issuer, **claims}
    return f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(body).encode())}."


def _unsigned_objects_advertised(ctx: Context) -> bool:
    algs = ctx.discovery().get("request_object_signing_alg_values_supported")
    return isinstance(algs, list) and "none" in algs


@module(
    "oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported",
    "basic",
    "An unsigned request_uri is processed or rejected with request_uri_not_supported",
)
def request_uri_unsigned(ctx: Context) -> tuple[Status, str]:
    if not _unsigned_objects_advertised(ctx):
        raise ModuleSkipped("none is not in request_object_signing_alg_values_supported")
    if ctx.discovery().get("request_uri_parameter_supported") is not False:
        raise ModuleSkipped("request_uri is supported, but this harness cannot host a request object")
    req = new_request(ctx, request_uri="https://selftest.invalid/request-object.jwt")
    outcome = authorize(ctx, ctx.new_browser(), req)
    if outcome.location is None:
        raise CheckFailed(f"no authorization response: {describe_page(outcome.page)}")
    params = callback_params(ctx, req, outcome.location)
    if params.get("error") != "request_uri_not_supported":
        raise CheckFailed(f"error={params.get('error')!r}, expected request_uri_not_supported")
    return ctx.verdict()


@module(
    "oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported",
    "basic",
    "An unsigned request object is processed or rejected with request_not_supported",
)
def unsigned_request_object(ctx: Context) -> tuple[Status, str]:
    algs = ctx.discovery().get("request_object_signing_alg_values_supported")
    if isinstance(algs, list) and "none" not in algs:
        raise ModuleSkipped("request_object_signing_alg_values_supported excludes none")
    req = new_request(ctx)
    req.params["request"] = _unsigned_request_object(ctx, dict(req.params))
    outcome = authorize(ctx, ctx.new_browser(), req)
    if outcome.location is None:
        raise CheckFailed(
            f"neither processed nor rejected with request_not_supported: {describe_page(outcome.page)}"
        )
    params = callback_params(ctx, req, outcome.location)
    if params.get("error") == "request_not_supported":
        return ctx.verdict()
    if "error" in params:
        raise CheckFailed(
            f"error={params['error']!r}, expected the request processed or request_not_supported"
        )
    token = check_token_response(ctx, exchange_code(ctx, req, params.get("code", "")))
    verify_id_token(ctx, token["id_token"], client=req.client, nonce=req.nonce)
    return ctx.verdict()


@module("oidcc-claims-essential", "basic", "claims asking for name (essential) in userinfo succeeds")
def claims_essential(ctx: Context) -> tuple[Status, str]:
    claims_request = json.dumps({"userinfo": {"name": {"essential": True}}})
    _, flow = signed_in(ctx, claims=claims_request)
    claims = userinfo_claims(ctx, userinfo(ctx, flow.access_token), flow.claims["sub"])
    if "name" not in claims:
        ctx.warn("name is not in userinfo although requested as essential")
    return ctx.verdict()


@module(
    "oidcc-ensure-request-object-with-redirect-uri",
    "basic",
    "A request object's redirect_uri is honoured, or an error page",
)
def request_object_with_redirect_uri(ctx: Context) -> tuple[Status, str]:
    if not _unsigned_objects_advertised(ctx):
        raise ModuleSkipped("unsigned request objects are not supported (none not advertised)")
    req = new_request(ctx)
    inner = dict(req.params)
    req.params = {
        "response_type": "code",
        "client_id": req.client.client_id,
        "scope": req.params["scope"],
        "request": _unsigned_request_object(ctx, inner),
    }
    outcome = authorize(ctx, ctx.new_browser(), req)
    if outcome.location is None:
        expect_error_page(outcome, "a request object carrying the redirect_uri")
        return ctx.verdict()
    code = expect_code(ctx, req, outcome)
    token = check_token_response(ctx, exchange_code(ctx, req, code))
    verify_id_token(ctx, token["id_token"], client=req.client, nonce=req.nonce)
    return ctx.verdict()


@module(
    "oidcc-refresh-token",
    "basic",
    "offline_access with prompt=consent gives a refresh token that works for its client only",
)
def refresh_token(ctx: Context) -> tuple[Status, str]:
    offline = "offline_access" in (ctx.discovery().get("scopes_supported") or [])
    scope = "openid offline_access" if offline else "openid"
    browser = ctx.new_browser()
    req = new_request(ctx, scope=scope, **({"prompt": "consent"} if offline else {}))
    flow = code_flow(ctx, browser, req)
    if offline and flow.outcome.consents == 0:
        ctx.warn("prompt=consent did not show the consent page")
    original = flow.refresh_token
    if original is None:
        raise ModuleSkipped(f"no refresh token was issued for scope {scope!r}")
    if not re.fullmatch(r"[\x20-\x7e]+", original):
        raise CheckFailed("the refresh token has characters outside VSCHAR (RFC 6749 A.17)")
    bits = shannon_bits(original)
    # The suite's EnsureMinimumRefreshTokenEntropy: Shannon estimate above 96 bits (128 with slop, since
    # the per-character estimate of a short random string is biased low).
    if bits <= 96:
        raise CheckFailed(
            f"the refresh token has only about {bits:.0f} bits of estimated entropy (over 96 needed)"
        )

    response = token_request(
        ctx, {"grant_type": "refresh_token", "refresh_token": original}, client=ctx.client
    )
    body = check_token_response(ctx, response, what="the refresh", id_token=False)
    if "id_token" in body:
        claims = verify_id_token(
            ctx,
            body["id_token"],
            client=ctx.client,
            nonce=_UNSET,
            access_token=body["access_token"],
            what="the refreshed ID token",
        )
        if claims["sub"] != flow.claims["sub"]:
            raise CheckFailed("the refreshed ID token has a different sub")
        if "nonce" in claims and claims["nonce"] != flow.claims.get("nonce"):
            raise CheckFailed("the refreshed ID token has a different nonce from the original")
        if "auth_time" in flow.claims and claims.get("auth_time") != flow.claims["auth_time"]:
            raise CheckFailed("the refreshed ID token has a different auth_time from the original")
    else:
        ctx.warn("the refresh response has no new id_token (allowed by OIDC Core 12.2)")
    latest = body.get("refresh_token") or original

    stolen = token_request(ctx, {"grant_type": "refresh_token", "refresh_token": latest}, client=ctx.client2)
    check_error_body(
        stolen, f"{ctx.client2.client_id} presenting {ctx.client.client_id}'s refresh token", "invalid_grant"
    )
    return ctx.verdict()


@module(
    "oidcc-ensure-request-with-valid-pkce-succeeds",
    "basic",
    "A request with S256 PKCE succeeds",
)
def valid_pkce(ctx: Context) -> tuple[Status, str]:
    methods = ctx.discovery().get("code_challenge_methods_supported")
    if isinstance(methods, list) and "S256" not in methods:
        raise CheckFailed("code_challenge_methods_supported does not contain S256")
    code_flow(ctx, ctx.new_browser(), new_request(ctx))
    return ctx.verdict()


# --------------------------------------------------------------------------------------------------
# RP-Initiated Logout OP
# --------------------------------------------------------------------------------------------------


def logout_state() -> str:
    """128 characters, as the suite uses, to check that the provider does not corrupt a long state."""
    return secrets.token_urlsafe(96)


@dataclass
class LogoutOutcome:
    first: Landing  # the answer to the end_session request itself
    final: Landing  # after confirming, if the provider asked
    confirmed: bool


def end_session(
    ctx: Context, browser: Browser, params: dict[str, str], *, confirm: bool = True
) -> LogoutOutcome:
    """GET end_session_endpoint; on a confirmation page, click the button named ``allow``."""
    first = browser.navigate("GET", add_query(ctx.endpoint("end_session_endpoint"), params))
    final, confirmed = first, False
    if confirm and first.rp_location is None and is_html(first.response):
        form = next(
            (form for form in forms_of(first.response.text) if form.button("allow") is not None), None
        )
        if form is not None:
            final = browser.submit(first.response, form, click="allow")
            confirmed = True
    return LogoutOutcome(first=first, final=final, confirmed=confirmed)


def expect_session_ended(ctx: Context, browser: Browser) -> None:
    """A prompt=none request in the browser now fails with login_required or interaction_required."""
    req = new_request(ctx, prompt="none")
    outcome = authorize(
        ctx,
        browser,
        req,
        forbid_login="after logout, prompt=none showed the login page "
        "instead of redirecting with login_required",
        forbid_consent="after logout, prompt=none showed the consent page: the session is still active",
    )
    if outcome.location is None:
        raise CheckFailed(f"after logout, prompt=none did not redirect back: {describe_page(outcome.page)}")
    params = callback_params(ctx, req, outcome.location)
    if "code" in params:
        raise CheckFailed("the session is still active after logout: prompt=none returned a code")
    if params.get("error") not in {"login_required", "interaction_required"}:
        raise CheckFailed(
            f"after logout, prompt=none gave error={params.get('error')!r}, "
            "expected login_required or interaction_required"
        )


def expect_logout_redirect(ctx: Context, outcome: LogoutOutcome, state: str | None) -> None:
    if outcome.final.rp_location is None:
        raise CheckFailed(
            f"no redirect to the post_logout_redirect_uri: {describe_page(outcome.final.response)}"
        )
    location = outcome.final.rp_location
    parts, expected = urlsplit(location), urlsplit(ctx.config.post_logout_redirect_uri)
    if (parts.scheme, parts.netloc, parts.path) != (expected.scheme, expected.netloc, expected.path):
        raise CheckFailed(f"redirected to {short_url(location)}, not the post_logout_redirect_uri")
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    if state is not None and params.get("state") != state:
        raise CheckFailed(
            "the post-logout redirect " + ("has a different state" if "state" in params else "lacks state")
        )
    if state is None and "state" in params:
        raise CheckFailed("the post-logout redirect has a state although none was sent")


def expect_no_logout_redirect(outcome: LogoutOutcome, why: str) -> None:
    """An error or confirmation page, and no redirect to the RP even after the user confirms."""
    if outcome.first.rp_location is not None:
        raise CheckFailed(f"redirected to {short_url(outcome.first.rp_location)} although {why}")
    page = outcome.first.response
    if page.status_code >= 500 or not is_html(page):
        raise CheckFailed(f"no error or confirmation page: {describe_page(page)}")
    if outcome.final.rp_location is not None:
        raise CheckFailed(
            f"after the user confirmed, redirected to {short_url(outcome.final.rp_location)} although {why}"
        )
    if outcome.final.response.status_code >= 500:
        raise CheckFailed(f"after the user confirmed: {describe_page(outcome.final.response)}")


def expect_logged_out_page(outcome: LogoutOutcome) -> None:
    if outcome.final.rp_location is not None:
        raise CheckFailed(
            f"redirected to {short_url(outcome.final.rp_location)} "
            "although no post_logout_redirect_uri was given"
        )
    page = outcome.final.response
    if page.status_code != 200 or not is_html(page):
        raise CheckFailed(f"no logged-out page: {describe_page(page)}")
    if any(form.button("allow") is not None for form in forms_of(page.text)):
        raise CheckFailed("the provider still asks for confirmation after the user confirmed")


def _logout_setup(ctx: Context) -> tuple[Browser, Flow]:
    ctx.endpoint("end_session_endpoint")
    return signed_in(ctx)


@module(
    "oidcc-rp-initiated-logout-discovery-endpoint-verification",
    "logout",
    "end_session_endpoint is in the discovery document",
)
def logout_discovery(ctx: Context) -> tuple[Status, str]:
    value = ctx.discovery().get("end_session_endpoint")
    if value is None:
        raise CheckFailed("end_session_endpoint is missing from the discovery document")
    if not _validate_url(value):
        raise CheckFailed("end_session_endpoint is not an absolute http(s) URL")
    if urlsplit(value).scheme != "https":
        if is_loopback_url(ctx.issuer):
            ctx.warn("end_session_endpoint is not https (accepted for a loopback development issuer only)")
        else:
            raise CheckFailed("end_session_endpoint is not https")
    return ctx.verdict()


@module(
    "oidcc-rp-initiated-logout",
    "logout",
    "Logout with id_token_hint, post_logout_redirect_uri and state redirects back with state; session ends",
)
def rp_initiated_logout(ctx: Context) -> tuple[Status, str]:
    browser, flow = _logout_setup(ctx)
    state = logout_state()
    outcome = end_session(
        ctx,
        browser,
        {
            "id_token_hint": flow.id_token,
            "post_logout_redirect_uri": ctx.config.post_logout_redirect_uri,
            "state": state,
        },
    )
    expect_logout_redirect(ctx, outcome, state)
    expect_session_ended(ctx, browser)
    return ctx.verdict()


@module(
    "oidcc-rp-initiated-logout-bad-post-logout-redirect-uri",
    "logout",
    "An unregistered post_logout_redirect_uri gets an error or confirmation page, no redirect",
)
def logout_bad_post_logout_redirect_uri(ctx: Context) -> tuple[Status, str]:
    browser, flow = _logout_setup(ctx)
    bad_uri = ctx.config.post_logout_redirect_uri.split("?")[0] + "-selftest-unregistered"
    ctx.add_rp_uri(bad_uri)
    outcome = end_session(
        ctx,
        browser,
        {
            "id_token_hint": flow.id_token,
            "post_logout_redirect_uri": bad_uri,
            "state": logout_state(),
        },
    )
    expect_no_logout_redirect(outcome, "the post_logout_redirect_uri is not registered")
    return ctx.verdict()


@module(
    "oidcc-rp-initiated-logout-modified-id-token-hint",
    "logout",
    "An alg:none-tampered id_token_hint gets an error or confirmation page, no redirect",
)
def logout_modified_id_token_hint(ctx: Context) -> tuple[Status, str]:
    browser, flow = _logout_setup(ctx)
    header, _ = jwt_parts(flow.id_token)
    tampered_header = {**header, "alg": "none"}
    payload = flow.id_token.split(".")[1]
    hint = f"{b64url(json.dumps(tampered_header).encode())}.{payload}."
    ctx.secret(hint)
    outcome = end_session(
        ctx,
        browser,
        {
            "id_token_hint": hint,
            "post_logout_redirect_uri": ctx.config.post_logout_redirect_uri,
            "state": logout_state(),
        },
    )
    expect_no_logout_redirect(outcome, "the id_token_hint is unsigned (alg none)")
    return ctx.verdict()


@module(
    "oidcc-rp-initiated-logout-bad-id-token-hint",
    "logout",
    "An id_token_hint signed by a foreign key gets an error or confirmation page, no redirect",
)
def logout_bad_id_token_hint(ctx: Context) -> tuple[Status, str]:
    browser, flow = _logout_setup(ctx)
    header, claims = jwt_parts(flow.id_token)
    kid = header.get("kid") if isinstance(header.get("kid"), str) else "selftest"
    foreign = jwk.JWK.generate(kty="RSA", size=2048, kid=kid)
    token = jws.JWS(json.dumps(claims).encode())
    token.add_signature(
        foreign, alg="RS256", protected=json.dumps({"alg": "RS256", "kid": kid, "typ": "JWT"})
    )
    hint = token.serialize(compact=True)
    ctx.secret(hint)
    outcome = end_session(
        ctx,
        browser,
        {
            "id_token_hint": hint,
            "post_logout_redirect_uri": ctx.config.post_logout_redirect_uri,
            "state": logout_state(),
        },
    )
    expect_no_logout_redirect(outcome, "the id_token_hint is signed by a key the provider never published")
    return ctx.verdict()


@module(
    "oidcc-rp-initiated-logout-no-id-token-hint",
    "logout",
    "post_logout_redirect_uri without id_token_hint gets an error or confirmation page, no redirect",
)
def logout_no_id_token_hint(ctx: Context) -> tuple[Status, str]:
    browser, _ = _logout_setup(ctx)
    outcome = end_session(
        ctx,
        browser,
        {"post_logout_redirect_uri": ctx.config.post_logout_redirect_uri, "state": logout_state()},
    )
    expect_no_logout_redirect(outcome, "no id_token_hint identifies the client")
    return ctx.verdict()


@module("oidcc-rp-initiated-logout-no-params", "logout", "No parameters: the user is logged out and told so")
def logout_no_params(ctx: Context) -> tuple[Status, str]:
    browser, _ = _logout_setup(ctx)
    expect_logged_out_page(end_session(ctx, browser, {}))
    expect_session_ended(ctx, browser)
    return ctx.verdict()


@module(
    "oidcc-rp-initiated-logout-no-post-logout-redirect-uri",
    "logout",
    "id_token_hint without post_logout_redirect_uri: the user is logged out and told so",
)
def logout_no_post_logout_redirect_uri(ctx: Context) -> tuple[Status, str]:
    browser, flow = _logout_setup(ctx)
    outcome = end_session(ctx, browser, {"id_token_hint": flow.id_token, "state": logout_state()})
    expect_logged_out_page(outcome)
    expect_session_ended(ctx, browser)
    return ctx.verdict()


@module(
    "oidcc-rp-initiated-logout-no-state",
    "logout",
    "Without state: a redirect to the registered URI without state; the session ends",
)
def logout_no_state(ctx: Context) -> tuple[Status, str]:
    browser, flow = _logout_setup(ctx)
    outcome = end_session(
        ctx,
        browser,
        {"id_token_hint": flow.id_token, "post_logout_redirect_uri": ctx.config.post_logout_redirect_uri},
    )
    expect_logout_redirect(ctx, outcome, None)
    expect_session_ended(ctx, browser)
    return ctx.verdict()


@module("oidcc-rp-initiated-logout-only-state", "logout", "Only state: the user is logged out and told so")
def logout_only_state(ctx: Context) -> tuple[Status, str]:
    browser, _ = _logout_setup(ctx)
    expect_logged_out_page(end_session(ctx, browser, {"state": logout_state()}))
    expect_session_ended(ctx, browser)
    return ctx.verdict()


@module(
    "oidcc-rp-initiated-logout-query-added-to-post-logout-redirect-uri",
    "logout",
    "A query added to the registered post_logout_redirect_uri: an error or confirmation page, no redirect",
)
def logout_query_added(ctx: Context) -> tuple[Status, str]:
    browser, flow = _logout_setup(ctx)
    modified = add_query(ctx.config.post_logout_redirect_uri, {"foo": "bar"})
    outcome = end_session(
        ctx,
        browser,
        {
            "id_token_hint": flow.id_token,
            "post_logout_redirect_uri": modified,
            "state": logout_state(),
        },
    )
    expect_no_logout_redirect(outcome, "the post_logout_redirect_uri has an added query (not an exact match)")
    return ctx.verdict()

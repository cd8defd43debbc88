"""The context of one module: configuration, HTTP with a deadline, discovery, keys, warnings."""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

import requests
from jwcrypto import jwk
from jwcrypto.common import JWException

from .browser import Browser
from .http import json_body, origin_of, short_url
from .registry import MAX_DETAIL, USER_AGENT, CheckFailed, Client, Config, Status
from .trace import spellings, trace_exchange


class Shared:
    """What the modules of one run may share: the discovery document and the keys (read-only)."""

    def __init__(self) -> None:
        self.discovery: dict[str, Any] | None = None
        self.discovery_error: str | None = None
        self.jwks: jwk.JWKSet | None = None


class Context:
    def __init__(self, config: Config, deadline: float, shared: Shared) -> None:
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
        for value in spellings(self._secrets):
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
            response = (session or requests).request(
                method,
                url,
                headers=headers,
                timeout=max(0.5, min(self.config.request_timeout, remaining)),
                verify=self.config.verify_tls,
                **kwargs,
            )
        except requests.Timeout:
            failure = f"{method} {short_url(url)}: no answer in time"
        except requests.exceptions.SSLError:
            failure = f"{method} {short_url(url)}: TLS error"
        except requests.ConnectionError:
            failure = f"{method} {short_url(url)}: connection failed"
        except requests.RequestException as exc:
            failure = f"{method} {short_url(url)}: {type(exc).__name__}"
        else:
            if self.config.trace is not None:
                trace_exchange(self.config.trace, self._secrets, request=response.request, response=response)
            return response
        if self.config.trace is not None:
            trace_exchange(self.config.trace, self._secrets, request=None, failure=failure)
        raise CheckFailed(failure)

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

    def credential_origins(self) -> set[str]:
        """Where the password may be sent: the provider's origins and the operator's ``--login-origin``s."""
        return self.op_origins() | {origin_of(origin) for origin in self.config.login_origins}

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

"""The browser: one cookie jar following the provider's redirects, stopping at the relying party.

Unlike a browser it is careful with what it types: the password goes only to the provider's origins
(or an operator's ``--login-origin``), and a 307 or 308 redirect, which re-sends a form, is followed
with the form only within the origin it was posted to or to those origins.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urljoin

import requests

from .forms import Button, Form
from .http import add_query, origin_of, short_url
from .registry import BROWSER_ACCEPT, MAX_REDIRECTS, CheckFailed

if TYPE_CHECKING:
    from .context import Context


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
        self.session.headers.update({"Accept": BROWSER_ACCEPT, "Accept-Language": "en"})

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
                elif data and origin_of(target) not in {origin_of(url), *self.ctx.credential_origins()}:
                    raise CheckFailed(
                        f"{short_url(url)} answered a form POST with HTTP {response.status_code} to "
                        f"{origin_of(target)}: a form is not re-sent to an origin other than the provider's"
                    )
                headers = None
                url = target
                continue
            return Landing(response=response)
        raise CheckFailed(f"more than {MAX_REDIRECTS} redirects from {short_url(url)}")

    def submit(
        self,
        page: requests.Response,
        form: Form,
        *,
        click: Button | None,
        fill: dict[str, str] | None = None,
        credentials: bool = False,
    ) -> Landing:
        """Press ``click`` (or Enter, if None) on ``form``: its own action and method, or the button's.

        ``credentials``: ``fill`` holds the password, which only the provider's origins may receive.
        """
        button = click.attrs if click is not None else {}
        action = urljoin(page.url, button.get("formaction") or form.attrs.get("action") or page.url)
        method = button.get("formmethod") or form.attrs.get("method") or "get"
        if credentials and origin_of(action) not in self.ctx.credential_origins():
            raise CheckFailed(
                f"the login form would send the password to {origin_of(action)}, which is not the "
                "provider's origin: not signing in there (a login page hosted there on purpose: "
                "--login-origin)"
            )
        data = form.submission(click, fill or {})
        headers = {"Referer": page.url, "Origin": origin_of(page.url)}
        if method.lower() == "post":
            return self.navigate("POST", action, data=data, headers=headers)
        return self.navigate("GET", add_query(short_url(action), data), headers=headers)

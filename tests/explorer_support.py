"""Helpers of the flow explorer's tests: playground-like clients, and a browser walking a run."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from idp.explorer.models import ExplorerRun
from idp.explorer.store import exchanges_of, secrets_of
from tests.conftest import ISSUER, consent_form_data
from tests.factories import PASSWORD, ApplicationFactory, PublicClientFactory, ServiceClientFactory

CALLBACK = f"{ISSUER}/developers/flows/callback"
FORM = "application/x-www-form-urlencoded"
PERSON_SCOPES = "openid profile email offline_access"


def explorer_web(**fields):
    """Like the playground's explorer-web: confidential, the explorer's callback registered."""
    return ApplicationFactory(
        **{"client_id": "explorer-web", "redirect_uris": CALLBACK, "allowed_scopes": PERSON_SCOPES, **fields}
    )


def explorer_spa(**fields):
    return PublicClientFactory(
        **{"client_id": "explorer-spa", "redirect_uris": CALLBACK, "allowed_scopes": PERSON_SCOPES, **fields}
    )


def demo_service(**fields):
    return ServiceClientFactory(**{"client_id": "demo-service", "allowed_scopes": "users:read", **fields})


def local(url: str) -> str:
    """An absolute URL of the issuer as the test client asks for it: path and query."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def post_form(client, path: str, data: dict, **extra):
    """A form POST as a browser sends it (urlencoded, not the test client's multipart)."""
    return client.post(path, urlencode(data, doseq=True), content_type=FORM, **extra)


def start(client, **fields):
    """Press "Start the flow" with these fields (the web flow by default)."""
    return post_form(client, "/developers/flows/start", {"flow": "web", **fields})


def through_authorization(client, response, *, username: str | None = None):
    """Follow the start's redirect through sign-in (if ``username``) and consent, to the callback."""
    assert response.status_code == 302, response.content[:500]
    response = client.get(local(response["Location"]))
    if response.status_code == 302 and urlsplit(response["Location"]).path == "/login":
        login = local(response["Location"])
        page = client.get(login)
        data = {"username": username, "password": PASSWORD, "next": page.context["next"]}
        response = post_form(client, "/login", data)
        assert response.status_code == 302, response.content[:500]
        response = client.get(local(response["Location"]))
    if response.status_code == 200 and "consent_marker" in (response.context or {}):
        response = post_form(client, "/authorize", {**consent_form_data(response), "allow": "1"})
    assert response.status_code == 302, response.content[:500]
    location = response["Location"]
    assert location.startswith(CALLBACK), location
    return client.get(local(location))


def latest_run() -> ExplorerRun:
    return ExplorerRun.objects.order_by("-created").first()


def arrows(run: ExplorerRun) -> list[tuple]:
    """(step, source, target, status, broken) of each message, in order."""
    return [(e.step, e.source, e.target, e.response.status, e.broken) for e in exchanges_of(run)]


def run_path(run: ExplorerRun, action: str = "") -> str:
    return f"/developers/flows/runs/{run.pk}" + (f"/{action}" if action else "")


def press(client, run: ExplorerRun, action: str):
    """Press one of the run page's buttons (next, remaining, refresh); the page comes back (302)."""
    response = client.post(run_path(run, action))
    assert response.status_code == 302, response.content[:500]
    assert response["Location"].startswith(run_path(run))
    run.refresh_from_db()
    return response


def kept(run: ExplorerRun) -> dict:
    run.refresh_from_db()
    return secrets_of(run)

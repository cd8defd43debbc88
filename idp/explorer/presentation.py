"""The context of the explorer's partial templates: the sequence diagram, the tokens explained, the exports.

A page merges what it needs and includes the partials (each takes its one context key)::

    context = {
        **diagram_context(exchanges, reveal=reveal),  # {"diagram": Diagram}
        **tokens_context(exchanges, issuer=..., client_id=..., nonce=..., reveal=reveal),  # "tokens"
        **exports_context(exchanges, issuer=..., client_id=..., flow=..., confidential=...),  # "exports"
    }
    {% include "idp/explorer/_diagram.html" %}  {% include "idp/explorer/_tokens.html" %}
    {% include "idp/explorer/_exports.html" %}

and links ``idp/explorer.css`` in its ``head`` block (with ``{% block card_class %} explorer{% endblock %}``
for the wide card). ``exchanges`` are ``records.Exchange`` in any order (shown by ``seq``), unmasked:
secrets are masked here unless ``reveal``; passwords, cookies and CSRF tokens are never shown.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from .exports import curl_script, mermaid
from .glossary import BREAKS, ERRORS, INTROSPECTION_MEMBERS, STEPS, BreakInfo, StepInfo
from .masking import mask_value, masked, scrubbed
from .messages import error_of, path_of, reason_of, split_url, status_class
from .records import LANES, Exchange, RecordedRequest, RecordedResponse
from .token_report import TokenReport, explain_jwt

DIAGRAM_HEADING_ID = "flow-diagram-title"
TOKEN_STEPS = frozenset({"token_request", "refresh", "device_poll", "client_credentials"})
TOKEN_LABELS = {"id_token": "ID token", "access_token": "Access token", "refresh_token": "Refresh token"}


@dataclass(frozen=True)
class Lane:
    """A lane of the diagram: its key (``LANES``), label, and 1-based column among the lanes used."""

    key: str
    label: str
    column: int


@dataclass(frozen=True)
class ErrorShown:
    """An OAuth error a message carries: its code, the provider's description, and what it means."""

    code: str
    description: str
    meaning: str


@dataclass(frozen=True)
class Message:
    """One arrow of the diagram and what its details show (secrets already masked unless revealed)."""

    seq: int
    step: str
    source: str
    target: str
    source_label: str
    target_label: str
    from_column: int
    to_column: int
    status: int
    reason: str
    method: str
    path: str
    request_text: str
    response_text: str
    step_info: StepInfo | None = None
    broken: str = ""
    break_info: BreakInfo | None = None
    error: ErrorShown | None = None
    notes: tuple[str, ...] = ()

    @property
    def direction(self) -> str:
        """``ltr`` when the arrow points right (or to its own lane), ``rtl`` when it points left."""
        return "rtl" if self.to_column < self.from_column else "ltr"

    @property
    def route(self) -> str:
        """The arrow in words: ``Relying party → Token endpoint``."""
        return f"{self.source_label} → {self.target_label}"

    @property
    def css_class(self) -> str:
        """``message from-2 to-4 ltr status-2xx``: what explorer.css draws the arrow from."""
        columns = f"from-{self.from_column} to-{self.to_column}"
        return f"message {columns} {self.direction} status-{status_class(self.status)}"


@dataclass(frozen=True)
class Diagram:
    """The sequence diagram: the lanes used (in LANES order) and the messages (by ``seq``)."""

    lanes: tuple[Lane, ...]
    messages: tuple[Message, ...]
    reveal: bool
    reveal_control: bool = True
    heading_id: str = DIAGRAM_HEADING_ID

    @property
    def lane_count(self) -> int:
        return len(self.lanes)


@dataclass(frozen=True)
class TokenShown:
    """A token of the run: ``id_token``, ``access_token`` or ``refresh_token``, its value (masked unless
    revealed) and its report."""

    key: str
    label: str
    value: str
    report: TokenReport

    @property
    def header_json(self) -> str:
        return json.dumps(self.report.header, indent=2, ensure_ascii=False)


@dataclass(frozen=True)
class Member:
    """A member of the introspection answer, with its meaning."""

    name: str
    value: str
    meaning: str


@dataclass(frozen=True)
class Tokens:
    """The tokens of the run's last successful token response, and the last introspection answer."""

    items: tuple[TokenShown, ...] = ()
    introspection: tuple[Member, ...] = ()
    reveal: bool = False


@dataclass(frozen=True)
class Exports:
    """The run as Mermaid text and as a curl script."""

    mermaid: str
    curl: str
    files: dict[str, str] = field(
        default_factory=lambda: {"curl": "explorer-run.sh", "mermaid": "explorer-run.mmd"}
    )


def diagram_context(exchanges: Sequence[Exchange], *, reveal: bool, reveal_control: bool = True) -> dict:
    """``{"diagram": Diagram}`` for ``_diagram.html``: one lane per lane used (LANES order), one message
    per exchange (by ``seq``), secrets masked unless ``reveal``. ``reveal_control``: show the
    "Reveal secrets" / "Hide secrets" link (``?reveal=1`` / ``?`` on the same page)."""
    ordered = sorted(exchanges, key=lambda exchange: exchange.seq)
    used = {lane for exchange in ordered for lane in (exchange.source, exchange.target)}
    keys = [key for key in LANES if key in used] + sorted(used - LANES.keys())
    lanes = tuple(Lane(key, LANES.get(key, key), column) for column, key in enumerate(keys, start=1))
    columns = {lane.key: lane.column for lane in lanes}
    messages = tuple(_message(exchange, columns=columns, reveal=reveal) for exchange in ordered)
    return {"diagram": Diagram(lanes=lanes, messages=messages, reveal=reveal, reveal_control=reveal_control)}


def tokens_context(
    exchanges: Sequence[Exchange],
    *,
    issuer: str,
    client_id: str,
    nonce: str | None = None,
    jwks: dict | None = None,
    reveal: bool = False,
    now: datetime | None = None,
) -> dict:
    """``{"tokens": Tokens}`` for ``_tokens.html``: the tokens of the run's last successful token
    response explained (``explain_jwt``), verified against ``jwks`` or else the JWKS the run fetched
    (its last ``jwks`` exchange); the last introspection answer with each member's meaning."""
    answer = _last_json(exchanges, steps=TOKEN_STEPS, having=("access_token", "id_token"))
    if jwks is None:
        jwks = _last_json(exchanges, steps={"jwks"}, having=("keys",)) or {}
    items = []
    for key, label in TOKEN_LABELS.items():
        value = (answer or {}).get(key)
        if not isinstance(value, str) or not value:
            continue
        access_token = answer.get("access_token") if key == "id_token" else None
        report = explain_jwt(
            value,
            jwks=jwks,
            issuer=issuer,
            client_id=client_id,
            nonce=nonce if key == "id_token" else None,
            access_token=access_token if isinstance(access_token, str) else None,
            now=now,
        )
        items.append(TokenShown(key, label, value if reveal else mask_value(value), report))
    introspected = _last_json(exchanges, steps={"introspection"}, having=("active",)) or {}
    members = tuple(
        Member(
            name, value if isinstance(value, str) else json.dumps(value), INTROSPECTION_MEMBERS.get(name, "")
        )
        for name, value in introspected.items()
    )
    return {"tokens": Tokens(items=tuple(items), introspection=members, reveal=reveal)}


def exports_context(
    exchanges: Sequence[Exchange], *, issuer: str, client_id: str, flow: str, confidential: bool
) -> dict:
    """``{"exports": Exports}`` for ``_exports.html``: ``mermaid(exchanges)`` and ``curl_script(...)``."""
    script = curl_script(exchanges, issuer=issuer, client_id=client_id, flow=flow, confidential=confidential)
    return {"exports": Exports(mermaid=mermaid(exchanges), curl=script)}


def _message(exchange: Exchange, *, columns: dict[str, int], reveal: bool) -> Message:
    shown = scrubbed(exchange) if reveal else masked(exchange)
    code, description = error_of(exchange)
    status = exchange.response.status
    return Message(
        seq=exchange.seq,
        step=exchange.step,
        source=exchange.source,
        target=exchange.target,
        source_label=LANES.get(exchange.source, exchange.source),
        target_label=LANES.get(exchange.target, exchange.target),
        from_column=columns[exchange.source],
        to_column=columns[exchange.target],
        status=status,
        reason=reason_of(status, exchange.response.reason),
        method=exchange.request.method.upper(),
        path=path_of(exchange.request.url),
        request_text=request_text(shown.request),
        response_text=response_text(shown.response),
        step_info=STEPS.get(exchange.step),
        broken=exchange.broken,
        break_info=BREAKS.get(exchange.broken) if exchange.broken else None,
        error=ErrorShown(
            code, description, ERRORS.get(code, "Not an error code of the OAuth specifications.")
        )
        if code
        else None,
        notes=tuple(exchange.notes),
    )


def request_text(request: RecordedRequest) -> str:
    """The request as an HTTP/1.1 message: request line, ``Host``, headers, a blank line, the body."""
    url = split_url(request.url)
    target = url.path or "/"
    if url.query:
        target += "?" + url.query
    lines = [f"{request.method.upper()} {target} HTTP/1.1"]
    if url.netloc and not any(name.lower() == "host" for name, _value in request.headers):
        lines.append(f"Host: {url.netloc}")
    lines += [f"{name}: {value}" for name, value in request.headers]
    return _with_body(lines, request.body)


def response_text(response: RecordedResponse) -> str:
    """The response as an HTTP/1.1 message: status line, headers, a blank line, the body."""
    lines = [f"HTTP/1.1 {response.status} {reason_of(response.status, response.reason)}".rstrip()]
    lines += [f"{name}: {value}" for name, value in response.headers]
    return _with_body(lines, response.body)


def _with_body(lines: list[str], body: str) -> str:
    if body:
        lines += ["", _pretty(body)]
    return "\n".join(lines)


def _pretty(body: str) -> str:
    """A JSON body indented; any other body as it is."""
    if body.lstrip()[:1] in ("{", "["):
        try:
            return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
        except ValueError:
            pass
    return body


def _last_json(exchanges: Sequence[Exchange], *, steps, having: tuple[str, ...]) -> dict | None:
    """The JSON object answered by the last successful exchange of ``steps`` that has one of ``having``."""
    for exchange in sorted(exchanges, key=lambda exchange: exchange.seq, reverse=True):
        if exchange.step not in steps or not 200 <= exchange.response.status < 300:
            continue
        try:
            data = json.loads(exchange.response.body)
        except ValueError:
            continue
        if isinstance(data, dict) and any(key in data for key in having):
            return data
    return None

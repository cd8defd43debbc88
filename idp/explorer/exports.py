"""A run exported: as Mermaid sequence diagram text, and as a bash script of curl commands."""

from __future__ import annotations

import re
from collections.abc import Sequence

from .curl import curl_script
from .glossary import BREAKS
from .messages import error_of, path_of, reason_of
from .records import LANES, Exchange

__all__ = ["curl_script", "mermaid"]

# What a Mermaid label may hold: a path's own characters. ``;`` and ``#`` mean something to Mermaid.
_UNSAFE_IN_PATH = re.compile(r"[^A-Za-z0-9/._~%:@+,=-]")
_UNSAFE_IN_TEXT = re.compile(r"[;#\r\n]")


def mermaid(exchanges: Sequence[Exchange]) -> str:
    """A Mermaid ``sequenceDiagram`` of the run: one participant per lane used (in LANES order), a
    request arrow ``->>`` labelled ``POST /token`` and a response arrow ``-->>`` labelled ``200 OK``
    (or ``400 invalid_grant``) per exchange, and a note before each message broken on purpose.
    Paths only: no query, no header, no body, so no secret."""
    used = {_lane(lane) for exchange in exchanges for lane in (exchange.source, exchange.target)}
    lines = ["sequenceDiagram"]
    lines += [f"    participant {key} as {_text(label)}" for key, label in LANES.items() if key in used]
    for exchange in sorted(exchanges, key=lambda exchange: exchange.seq):
        source, target = _lane(exchange.source), _lane(exchange.target)
        if exchange.broken:
            label = BREAKS[exchange.broken].label if exchange.broken in BREAKS else exchange.broken
            over = source if source == target else f"{source},{target}"
            lines.append(f"    Note over {over}: Broken on purpose: {_text(label)}")
        path = _UNSAFE_IN_PATH.sub("_", path_of(exchange.request.url))
        method = re.sub(r"[^A-Z]", "", exchange.request.method.upper())
        lines.append(f"    {source}->>{target}: {method} {path}")
        lines.append(f"    {target}-->>{source}: {_text(_response_label(exchange))}")
    return "\n".join(lines) + "\n"


def _response_label(exchange: Exchange) -> str:
    status = exchange.response.status
    code, _description = error_of(exchange)
    return f"{status} {code or reason_of(status, exchange.response.reason)}".strip()


def _lane(key: str) -> str:
    """A lane's key as a Mermaid participant: the LANES keys are words; anything else is made one."""
    return key if key in LANES else re.sub(r"\W", "_", key) or "unknown"


def _text(text: str) -> str:
    """``text`` safe in a Mermaid label: no statement separator, no entity, no line break, no ``&``."""
    return _UNSAFE_IN_TEXT.sub(" ", text.replace("&", "and")).strip()

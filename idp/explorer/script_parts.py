"""The fixed parts of the exported curl script, and shell words built from literal text and expansions."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Raw:
    """Shell text used as it is inside double quotes: an expansion such as ``${CODE}``."""

    text: str


def word(parts: Sequence[str | Raw]) -> str:
    """One shell word: literal parts quoted so that nothing in them expands, ``Raw`` parts as they are."""
    parts = [part.replace("\0", "") if isinstance(part, str) else part for part in parts]  # bash drops NUL
    if all(isinstance(part, str) for part in parts):
        return shlex.quote("".join(parts))  # type: ignore[arg-type]
    return (
        '"' + "".join(part.text if isinstance(part, Raw) else _in_double_quotes(part) for part in parts) + '"'
    )


def _in_double_quotes(text: str) -> str:
    for special in ("\\", '"', "$", "`"):
        text = text.replace(special, "\\" + special)
    return text


def command(name: str, args: Sequence[str]) -> list[str]:
    """``name`` with ``args`` (each an option and its value, as shell text), one per continued line."""
    lines = [f"{name} {args[0]}" if args else name]
    for arg in args[1:]:
        lines[-1] += " \\"
        lines.append(f"  {arg}")
    return lines


PREAMBLE = [
    "for tool in curl jq openssl; do",
    '  command -v "$tool" >/dev/null || { echo "This script needs $tool." >&2; exit 1; }',
    "done",
    "new_secret() { openssl rand -base64 48 | tr -d '\\n=' | tr '+/' '-_'; }",
    "base64url() { openssl base64 -A | tr -d '=' | tr '+/' '-_'; }",
    "urlencode() { jq -rn --arg value \"$1\" '$value | @uri'; }",
    'param() { printf \'%s\\n\' "$2" | sed -n "s/.*[?&#]$1=\\([^&#]*\\).*/\\1/p"; }',
    'call() {  # curl "$@", print the answer\'s status and body, keep the body in BODY',
    "  local answer",
    "  answer=$(curl -sS -w '\\n%{http_code}' \"$@\")",
    "  STATUS=${answer##*$'\\n'}",
    "  BODY=${answer%$'\\n'*}",
    '  printf \'HTTP %s\\n%s\\n\\n\' "$STATUS" "$BODY"',
    "}",
]


def authorization_block(*, heading: str, url: str, pkce: bool) -> list[str]:
    """Fresh state, nonce (and PKCE pair), the authorization URL printed, the redirect read back."""
    return [
        "",
        f"# {heading}",
        "STATE=$(new_secret)",
        "NONCE=$(new_secret)",
        *(
            [
                "CODE_VERIFIER=$(new_secret)",
                "CODE_CHALLENGE=$(printf '%s' \"$CODE_VERIFIER\" | openssl dgst -sha256 -binary | base64url)",
            ]
            if pkce
            else []
        ),
        f"AUTHORIZE_URL={url}",
        'echo "Open this address in a browser, sign in and consent:"',
        'echo "$AUTHORIZE_URL"',
        'read -r -p "Then paste the address the browser was sent back to (or just the code): " REDIRECTED',
        'ERROR=$(param error "$REDIRECTED")',
        'if [ -n "$ERROR" ]; then echo "The server refused: error=$ERROR" >&2; exit 1; fi',
        'RETURNED_STATE=$(param state "$REDIRECTED")',
        'if [ -n "$RETURNED_STATE" ] && [ "$RETURNED_STATE" != "$STATE" ]; then',
        '  echo "Not the state this script sent: stop, the callback may be forged (RFC 6749 §10.12)." >&2',
        "  exit 1",
        "fi",
        'CODE=$(param code "$REDIRECTED")',
        'if [ -z "$CODE" ]; then CODE=$REDIRECTED; fi',
    ]


def device_loop(request: list[str]) -> list[str]:
    """``request`` (a device-code token request) repeated until the person answers (RFC 8628 §3.5)."""
    return [
        "while :; do",
        '  sleep "${INTERVAL:-5}"',
        *[f"  {line}" for line in request],
        '  case "$(jq -r \'.error // empty\' <<<"$BODY")" in',
        "    authorization_pending) ;;",
        "    slow_down) INTERVAL=$(( ${INTERVAL:-5} + 5 )) ;;",
        "    *) break ;;",
        "  esac",
        "done",
    ]

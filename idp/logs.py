"""What the provider writes to its logs: one line per event, the request's id on it, no secrets."""

from __future__ import annotations

import logging
import re
import secrets
import sys
import time
from contextvars import ContextVar

REDACTED = "[redacted]"

# Request parameters and form fields that carry a credential, a one-time secret or a hint about who
# the person is. ``state`` and ``nonce`` are not among them: a relying party's values, tied to its own
# browser session, they are what an operator needs to follow a flow.
SECRET_PARAMETERS = (
    "access_token",
    "refresh_token",
    "id_token",
    "id_token_hint",
    "login_hint",
    "logout_hint",
    "code",
    "code_verifier",
    "client_secret",
    "client_assertion",
    "assertion",
    "device_code",
    "user_code",
    "token",
    "subject_token",
    "actor_token",
    "password",
    "old_password",
    "password1",
    "password2",
    "new_password1",
    "new_password2",
)


def _name_pattern(name: str) -> str:
    """``name`` with any of its characters percent-encoded (``access%5Ftoken``), as servers decode it."""
    return "".join(f"(?:{re.escape(char)}|%{ord(char):02X})" for char in name)


_NAMES = "|".join(_name_pattern(name) for name in sorted(SECRET_PARAMETERS, key=len, reverse=True))
# ``name=value`` in a query string or form body, also percent-encoded once or twice inside another URL
# (``/login?next=/authorize%3Fclient_id%3Dx%26login_hint%3Dalice``).
_PARAMETER = re.compile(
    rf"(?P<before>^|[?&;\s\"'(,]|%26|%3F|%2526|%253F)(?P<name>{_NAMES})(?P<equals>=|%3D|%253D)"
    r"(?P<value>(?:(?!%26|%2526)[^&\s\"'<>;,)])+)",
    re.IGNORECASE,
)
# ``'name': 'value'`` or ``"name": ["value"]`` in a dict, QueryDict or JSON rendered into a message.
_MAPPING = re.compile(
    rf"(?P<key>(?P<q>['\"])(?:{_NAMES})(?P=q)\s*:\s*\[?\s*)(?P<vq>['\"])(?P<value>(?:\\.|(?!(?P=vq)).)*)(?P=vq)",
    re.IGNORECASE,
)
# Credentials recognisable by their shape wherever they appear: a JWT or JWE (ID tokens, assertions),
# an Authorization header's value, and a Django password-reset token (a path segment of the reset link).
_SHAPES = (
    (re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w.-]*"), REDACTED),
    (re.compile(r"\b(Bearer|Basic)\s+[\w.~+/-]{8,}+=*+(?![\"\w])", re.IGNORECASE), rf"\1 {REDACTED}"),
    (re.compile(r"(?<![0-9a-z])[0-9a-z]{1,13}-[0-9a-f]{32}(?![0-9a-f])"), REDACTED),
)


def _redact_value(match: re.Match) -> str:
    return f"{match['before']}{match['name']}{match['equals']}{REDACTED}"


def redact(text: str) -> str:
    """``text`` with every secret parameter's value, token, authorization and reset link replaced."""
    text = _PARAMETER.sub(_redact_value, text)
    text = _MAPPING.sub(lambda match: f"{match['key']}{match['vq']}{REDACTED}{match['vq']}", text)
    for pattern, replacement in _SHAPES:
        text = pattern.sub(replacement, text)
    return text


_request_id: ContextVar[str | None] = ContextVar("idp_request_id", default=None)


def start_request(request_id: str | None = None) -> str:
    """A new id for the request this thread starts serving (random unless given), until ``end_request``."""
    request_id = request_id or secrets.token_hex(8)
    _request_id.set(request_id)
    return request_id


def end_request(**kwargs) -> None:
    """Forget the request id (connected to ``request_finished``, after the server's access log line)."""
    _request_id.set(None)


def current_request_id() -> str | None:
    """The id of the request being served, if any."""
    return _request_id.get()


class RequestIdFilter(logging.Filter):
    """Puts ``request_id`` on every record: the id of the request being served, or ``-``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id() or "-"
        return True


class RedactingFilter(logging.Filter):
    """Renders the record's message, traceback and stack with ``redact``, for every handler after it."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken call's arguments are not printed: they may be the secret
            message = f"{record.msg} (unformattable arguments)"
        record.msg, record.args = redact(str(message)), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class LineFormatter(logging.Formatter):
    """``2026-01-02T03:04:05Z ERROR django.request request_id=… message``: one line; a traceback follows.

    Line breaks inside the message are escaped, so every event starts exactly one line and a
    request's lines are found with ``grep request_id=…``.
    """

    converter = time.gmtime
    default_format = "{asctime} {levelname} {name} request_id={request_id} {message}"

    def __init__(self, fmt: str | None = None, datefmt: str | None = None, style: str = "{", **kwargs):
        super().__init__(fmt or self.default_format, datefmt or "%Y-%m-%dT%H:%M:%SZ", style, **kwargs)

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = record.message.replace("\r", "\\r").replace("\n", "\\n")
        if not hasattr(record, "request_id"):
            record.request_id = "-"
        return super().formatMessage(record)


class StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at each record: the server's log, or a test's capture."""

    def __init__(self, level: int = logging.NOTSET):
        logging.Handler.__init__(self, level)

    @property
    def stream(self):
        return sys.stderr

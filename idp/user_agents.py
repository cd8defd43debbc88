"""Sessions in plain words: "browser on system" from a User-Agent header (no database), sign-in methods."""

from __future__ import annotations

import re

# Order matters: Edge and Opera say Chrome too, Chrome says Safari too.
_BROWSERS = (
    ("Edge", re.compile(r"Edg(?:e|A|iOS)?/")),
    ("Opera", re.compile(r"OPR/|Opera")),
    ("Firefox", re.compile(r"Firefox/|FxiOS/")),
    ("Chrome", re.compile(r"Chrome/|CriOS/|Chromium/")),
    ("Safari", re.compile(r"Safari/")),
)
_SYSTEMS = (
    ("iPhone", re.compile(r"iPhone")),
    ("iPad", re.compile(r"iPad")),
    ("Android", re.compile(r"Android")),
    ("Windows", re.compile(r"Windows")),
    ("macOS", re.compile(r"Mac OS X|Macintosh")),
    ("ChromeOS", re.compile(r"CrOS")),
    ("Linux", re.compile(r"Linux")),
)


def describe_user_agent(user_agent: str) -> str:
    """e.g. "Firefox on Windows"; "Unknown browser" when nothing is recognised."""
    browser = next((name for name, pattern in _BROWSERS if pattern.search(user_agent or "")), None)
    system = next((name for name, pattern in _SYSTEMS if pattern.search(user_agent or "")), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "Unknown browser"


# RFC 8176 amr values as a person reads them; others are shown as they are.
_METHODS = {
    "pwd": "password",
    "otp": "one-time code",
    "mfa": "two steps",
    "hwk": "security key",
    "swk": "passkey",
}


def describe_methods(amr: list[str]) -> list[str]:
    """e.g. ["password", "one-time code"] for ``["pwd", "otp"]``."""
    return [_METHODS.get(method, method) for method in amr]

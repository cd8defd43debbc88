"""The site's name, logo and colours from the IDP settings, for templates and the theme stylesheet."""

from __future__ import annotations

import re

from django.templatetags.static import static

from .conf import DEFAULTS, idp_settings

HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


def logo_url(value: str) -> str:
    """``SITE_LOGO`` as a URL: absolute URLs as they are, anything else as a static file path."""
    if not value:
        return ""
    if value.startswith(("https://", "http://", "/")):
        return value
    return static(value)


def accent_color() -> str:
    """The configured accent colour when it is a valid ``#rrggbb``, else the default (never raw input)."""
    color = idp_settings.ACCENT_COLOR
    return color if isinstance(color, str) and HEX_COLOR.match(color) else DEFAULTS["ACCENT_COLOR"]


def _relative_luminance(color: str) -> float:
    def channel(hex_pair: str) -> float:
        value = int(hex_pair, 16) / 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(color[i : i + 2]) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(color: str, other: str = "#ffffff") -> float:
    """WCAG 2.1 contrast ratio of two ``#rrggbb`` colours (1 to 21)."""
    lighter, darker = sorted((_relative_luminance(color), _relative_luminance(other)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def theme_css() -> str:
    """The stylesheet that carries the configured colours (served by a view: no inline styles)."""
    return f":root {{ --accent: {accent_color()}; }}\n"

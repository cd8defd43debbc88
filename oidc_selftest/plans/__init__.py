"""The checks of each certification plan; importing this package registers them, in plan order."""

# isort: off
# The order of these imports is the order of the modules within each plan (and of a run).
from . import config, basic, basic_sessions, basic_requests, logout, backchannel, device  # noqa: F401
# isort: on

"""The token lifecycle: checksums, codes claimed once, issued tokens saved together, and every revocation.

One package, a module per stage: ``stored`` (checksums), ``codes`` (find, check, claim), ``issue``
(save a response in one transaction), ``reuse`` (a code or refresh token used twice), ``revoke``
(by the client, by an operator, by person or client).

Every way tokens end, each recorded once:
- a code used twice: ``revoke_reused_code`` (``code_reuse``), from ``check_code`` or a lost race in
  ``save_issued``;
- a refresh token used twice: ``revoke_reused_refresh_token`` (``refresh_token_reuse``), detected by
  ``detect_refresh_token_reuse`` (a refused token that was rotated away) or a lost race in ``save_issued``;
- a client revokes one of its tokens (RFC 7009): ``revoke_by_client`` (``token_revoked``);
- an operator revokes a token or a code in the admin: ``revoke_by_operator`` (``token_revoked``);
- a person disconnects an app, an operator disables a client, a person is deactivated or changes
  password: ``revoke_tokens``, called by ``consent.revoke_consent``, ``clients.set_client_active`` and
  ``accounts``, which record the event for what they did (``consent_revoked``, ``client_disabled``,
  ``user_deactivated``, ``password_changed``, each with what was revoked).
- a browser session ends for a client whose policy says so: ``revoke_session_refresh_tokens``, called
  by ``browser_sessions.end_browser_session`` (``session_ended``).
Whether a stored token still counts is ``idp.token_checks``.
"""

from .codes import check_code, claim_code, claim_device_grant, find_code
from .issue import Saved, new_id_token, save_access_token, save_issued, save_refresh_token
from .reuse import detect_refresh_token_reuse, revoke_reused_code, revoke_reused_refresh_token
from .revoke import revoke_by_client, revoke_by_operator, revoke_tokens, revoke_tokens_issued_from
from .stored import checksum

__all__ = [
    "Saved",
    "check_code",
    "checksum",
    "claim_code",
    "claim_device_grant",
    "detect_refresh_token_reuse",
    "find_code",
    "new_id_token",
    "revoke_by_client",
    "revoke_by_operator",
    "revoke_reused_code",
    "revoke_reused_refresh_token",
    "revoke_tokens",
    "revoke_tokens_issued_from",
    "save_access_token",
    "save_issued",
    "save_refresh_token",
]

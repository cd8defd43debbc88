"""The device authorization grant (RFC 8628): a person approves, on their phone or laptop, a device
that cannot host a browser.

``models`` (the stored grant), ``codes`` (user and device codes, found by checksum), ``protocol``
(oauthlib's device endpoint and grant, corrected), ``approval`` (the person's answer, guesses limited).
The views are ``idp.views.device``.
"""

DEVICE_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"

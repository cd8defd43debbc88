"""The flow explorer: real OAuth 2 / OpenID Connect flows run by a built-in relying party, recorded."""

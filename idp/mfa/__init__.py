"""Second factors: the factor framework, TOTP, recovery codes and passkeys."""

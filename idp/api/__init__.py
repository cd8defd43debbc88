"""The resource API: people's own data and a user directory, protected by scoped bearer tokens."""

"""Back-Channel Logout 1.0: logout tokens, their durable outbox, and the delivery worker's steps."""

"""Business systems that push records through the HTTP API, and their bearer tokens."""

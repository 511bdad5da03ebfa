"""What every feature's adapters share — the HTTP runtime and dependencies its routes use
(`http`), the per-process rate limiter (`ratelimit`) and the helpers of its CLI commands
(`cli`). Features import this package; it imports no feature, so routes and commands can
live in the feature they belong to while `dangan.web` and `dangan.cli` only compose them."""

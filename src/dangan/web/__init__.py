"""The web application: `create_app(container)` (in `dangan.web.app`) composes every
feature's routes with error mapping, OpenAPI and health checks."""

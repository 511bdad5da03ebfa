"""The catalogue's schema as a whole: every feature's tables (`tables`) and the Alembic
migrations that create and upgrade them (`migrate`). It sits above the features because it
gathers all their models; the features themselves only know `dangan.db`."""

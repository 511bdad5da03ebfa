"""The instance's life: initialise (keys, schema, roots), recover after a crash, rebuild the
catalogue from storage alone, load demo data — and their commands."""

"""The arrangement scheme (整理): fonds, categories, and the numbering that turns a
classification into an archival code (档号), allocated inside the archiving transaction."""

"""Plan-level assertions: each root config planned once per session, checked against inventories."""

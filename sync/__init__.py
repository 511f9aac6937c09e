"""The fieldapp sync engine: plain Python, no Flask and no SQLAlchemy; it reaches
storage only through ``sync.store.Store`` (see README.md)."""

"""The fieldapp sync engine: plain Python over SQLAlchemy, no Flask (see README.md)."""

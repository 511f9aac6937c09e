"""API views (thin: parse, authorise, call sync, serialise)."""

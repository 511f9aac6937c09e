"""Database plumbing: engine set-up, write transactions, the pull sequence (see README.md)."""

from fieldapp.db.engine import AnySession, begin_write, plan_each_statement, write_transaction

__all__ = ["AnySession", "begin_write", "plan_each_statement", "write_transaction"]

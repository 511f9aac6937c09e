"""CLI commands, one module per area; each exposes ``register(app)``.

Thin wrappers: parse the options, call the use case in its domain module
(``fieldapp/campaigns.py``, ``users.py``, ``retention.py``, …), print, and turn
the domain's refusals (ValueError, Chinese message) into ``click.ClickException``.
Only ``fieldapp/cli.py`` imports them (``tests/test_layout.py``).
"""

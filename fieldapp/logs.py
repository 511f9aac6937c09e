"""The app's logging set-up, in one place.

``create_app`` configures it; migrations run inside the app (``fieldapp init-db``,
``fieldapp demo``) leave it alone (``migrations/env.py`` configures logging from
``alembic.ini`` only when nothing else has, and never disables a logger), and
:func:`configure` runs again after them, so that whatever a migration environment
did, the server that follows in the same process logs its errors.
"""

from __future__ import annotations

import logging

from flask import Flask

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
OURS = ("fieldapp", "sync")


def configure(app: Flask) -> None:
    """INFO and above to standard error unless the host configured logging (tests, a
    debugger); Alembic quiet; every logger of ours enabled."""
    if not app.debug and not app.testing and not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format=FORMAT)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and name.split(".")[0] in OURS:
            logger.disabled = False

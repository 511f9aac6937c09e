"""One ingest at a time per server process: a phone's push batch (``sync_service.push_batch``)
or a town's replication page at central (``replication.central.receive_page``).

Both are mostly Python CPU work (validation, merging, building rows) around a database
write. Threads of one process share its interpreter lock: two ingests side by side run at
half speed each, the one holding the database's write lock holds up every writer of every
process for longer, and every other request of the process (a supervisor's page, a pull)
waits behind all of them for the interpreter. Measured at central with ten towns sending
pages at once (``bench/replicate.py``): the dashboard's slowest view took 2.1-3.6 s
before, 0.5-1.3 s with this lock and a thread per town (``server.default_threads``),
and the towns finished no later. Ingests waiting here sleep without
the interpreter lock; processes still ingest in parallel (one per core).
"""

from __future__ import annotations

import threading

ONE_INGEST_AT_A_TIME = threading.Lock()

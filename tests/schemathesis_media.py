"""Media types of the API that schemathesis cannot serialise by itself (imported by the
modules that fuzz the API)."""

from __future__ import annotations

import schemathesis


@schemathesis.serializer("application/offset+octet-stream")
def photo_chunk(ctx: object, value: object) -> bytes:
    """A photo chunk's body (docs/sync-protocol.md#photos): bytes as generated, else their text."""
    return value if isinstance(value, bytes) else str(value).encode()

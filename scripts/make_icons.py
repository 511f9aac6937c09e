"""Draw the app icons (192 and 512 px, maskable) with the standard library only.

A full-bleed red square (maskable: the launcher may crop to any shape) with a
white clipboard-and-tick drawn inside the central 60 % safe zone.
Run: ``python scripts/make_icons.py`` (writes static/icons/).
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

RED = (183, 28, 28)
WHITE = (255, 255, 255)


def _pixel(x: float, y: float) -> tuple[int, int, int]:
    """Colour at (x, y) in unit coordinates (0..1)."""
    # Clipboard body: a rounded-ish white rectangle in the safe zone.
    if 0.30 <= x <= 0.70 and 0.26 <= y <= 0.76:
        # Tick: two thick strokes, red on white.
        if _near_segment(x, y, (0.38, 0.52), (0.47, 0.62), 0.035) or _near_segment(
            x, y, (0.47, 0.62), (0.63, 0.40), 0.035
        ):
            return RED
        return WHITE
    # Clip on top of the board.
    if 0.42 <= x <= 0.58 and 0.21 <= y <= 0.27:
        return WHITE
    return RED


def _near_segment(x: float, y: float, a: tuple[float, float], b: tuple[float, float], width: float) -> bool:
    ax, ay = a
    bx, by = b
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)))
    px, py = ax + t * dx, ay + t * dy
    return (x - px) ** 2 + (y - py) ** 2 <= width**2


def png(size: int) -> bytes:
    rows = bytearray()
    for j in range(size):
        rows.append(0)  # filter: none
        for i in range(size):
            rows.extend(_pixel((i + 0.5) / size, (j + 0.5) / size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(bytes(rows), 9)) + chunk(b"IEND", b""))


if __name__ == "__main__":
    here = Path(__file__).resolve().parents[1] / "static" / "icons"
    for size in (192, 512):
        (here / f"icon-{size}.png").write_bytes(png(size))

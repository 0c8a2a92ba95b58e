#!/usr/bin/env python3
"""Writes the placeholder app icons (RGBA PNG, 32x32, 128x128 and icon.png at
256x256) beside this file: a blue rounded square holding a white certificate
sheet. Uses only the standard library; run it again to regenerate them."""

import pathlib
import struct
import zlib

BACKGROUND = (47, 93, 138, 255)  # the UI's accent blue
SHEET = (255, 255, 255, 255)
TEXT_LINE = (47, 93, 138, 255)
SEAL = (196, 48, 43, 255)  # a red hanko-style seal
TRANSPARENT = (0, 0, 0, 0)


def pixel_at(x: float, y: float) -> tuple[int, int, int, int]:
    """The colour at (x, y) in the unit square, y growing downwards."""
    radius = 0.18
    cx = min(max(x, radius), 1 - radius)
    cy = min(max(y, radius), 1 - radius)
    if (x - cx) ** 2 + (y - cy) ** 2 > radius**2:
        return TRANSPARENT
    if 0.24 <= x <= 0.76 and 0.14 <= y <= 0.86:
        if (x - 0.62) ** 2 + (y - 0.70) ** 2 <= 0.075**2:
            return SEAL
        for line_top in (0.26, 0.38, 0.50):
            if 0.32 <= x <= 0.68 and line_top <= y <= line_top + 0.05:
                return TEXT_LINE
        return SHEET
    return BACKGROUND


def png_bytes(size: int) -> bytes:
    """An RGBA PNG of the icon, `size` pixels square, 4x4 supersampled."""
    samples = 4
    rows = bytearray()
    for row in range(size):
        rows.append(0)  # filter type: none
        for column in range(size):
            total = [0, 0, 0, 0]
            for sub_y in range(samples):
                for sub_x in range(samples):
                    r, g, b, a = pixel_at(
                        (column + (sub_x + 0.5) / samples) / size,
                        (row + (sub_y + 0.5) / samples) / size,
                    )
                    total[0] += r * a
                    total[1] += g * a
                    total[2] += b * a
                    total[3] += a
            alpha_sum = total[3]
            if alpha_sum == 0:
                rows.extend(TRANSPARENT)
            else:
                rows.extend(round(channel / alpha_sum) for channel in total[:3])
                rows.append(round(alpha_sum / samples**2))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + chunk(b"IEND", b"")
    )


def main() -> None:
    folder = pathlib.Path(__file__).resolve().parent
    for name, size in (("32x32.png", 32), ("128x128.png", 128), ("icon.png", 256)):
        (folder / name).write_bytes(png_bytes(size))


if __name__ == "__main__":
    main()

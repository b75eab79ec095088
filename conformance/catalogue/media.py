"""Media a case sends, made here (no file is read from anywhere): a small PNG, a short WAV tone."""

from __future__ import annotations


def tiny_png_data_url(size: int = 8, rgb: tuple[int, int, int] = (220, 30, 30)) -> str:
    """A small PNG made here (one solid colour), as a data URL: no image is read from anywhere."""
    import base64
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\0" + bytes(rgb) * size for _ in range(size))
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
    return "data:image/png;base64," + base64.b64encode(png).decode()


def tiny_wav_base64(seconds: float = 0.25, rate: int = 16_000, hertz: float = 440.0) -> str:
    """A short WAV made here (a 440 Hz tone, 16-bit mono PCM), base64-encoded for an `input_audio` part."""
    import base64
    import math
    import struct

    frames = int(seconds * rate)
    samples = b"".join(struct.pack("<h", int(12_000 * math.sin(2 * math.pi * hertz * n / rate))) for n in range(frames))
    header = (b"RIFF" + struct.pack("<I", 36 + len(samples)) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate,
                                                                                          rate * 2, 2, 16)
              + b"data" + struct.pack("<I", len(samples)))
    return base64.b64encode(header + samples).decode()

"""A `Content-Encoding: gzip, gzip` bomb: 2.5 KB on the wire, 1 MiB once decoded once, 1 GiB
once decoded twice. Made in milliseconds, without compressing a gigabyte: a deflate block of
1 MiB of zeros, ended by a full flush, is the same bytes every time, so the inner gzip member
is that block 1024 times (its CRC for 1 GiB of zeros is a known constant, checked in the
hostile session by decoding it whole)."""

from __future__ import annotations

import functools
import gzip
import struct
import zlib

MIB = 1 << 20
EXPANDED = 1 << 30
"""What the bomb decodes to: 1 GiB of zeros."""
CRC_OF_EXPANDED = 0x5B64C2B0
"""zlib.crc32 of 1 GiB of zeros."""
GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"  # no name, no time, best compression


@functools.cache
def gzip_gzip_bomb() -> bytes:
    """The body: gzip of (gzip of 1 GiB of zeros)."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    zeros = bytes(MIB)
    first = deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH)
    again = deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH)
    inner = b"".join(
        [
            GZIP_HEADER,
            first,
            again * (EXPANDED // MIB - 1),
            deflate.flush(zlib.Z_FINISH),
            struct.pack("<II", CRC_OF_EXPANDED, EXPANDED % (1 << 32)),
        ]
    )
    return gzip.compress(inner, 9, mtime=0)

"""Hold-out: an image whose header promises billions of bytes is rejected from its header."""

import resource
import struct
import zlib

from pipeline.core.images import inspect_image
from pipeline.core.validation import validate_manifest
from pipeline.tasks import TASKS


def write_png_bomb(path, width, height):
    """A valid greyscale PNG of width x height zero pixels: a few hundred KB on disk."""
    compressor = zlib.compressobj(9)
    row = bytes(width + 1)  # filter byte + pixels
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()

    def chunk(kind, payload):
        crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )
    return path


def test_an_image_over_the_limit_is_never_decoded(tmp_path):
    bomb = write_png_bomb(tmp_path / "bomb.png", 12_000, 12_000)  # 144 Mpx, 0.14 GB decoded
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    info = inspect_image(bomb, max_pixels=100_000_000)
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert info.oversized and info.decodes is None
    assert (info.width, info.height) == (12_000, 12_000)  # read from the header
    assert grown_kb < 50_000  # decoding would have taken ~140 MB


def test_a_bomb_beyond_pillows_own_limit_is_rejected_too(tmp_path):
    bomb = write_png_bomb(tmp_path / "huge.png", 20_000, 20_000)  # 400 Mpx
    info = inspect_image(bomb, max_pixels=100_000_000)
    assert info.oversized and info.decodes is None


def test_validate_rejects_the_bomb_with_its_reason_and_keeps_the_rest(tmp_path, write_image):
    root = tmp_path / "plates"
    for i in range(3):
        write_image(root / f"ok{i}.jpg", seed=i)
        (root / f"ok{i}.txt").write_text("0 0.5 0.5 0.2 0.1\n")
    write_png_bomb(root / "bomb.png", 12_000, 12_000)
    (root / "bomb.txt").write_text("0 0.5 0.5 0.2 0.1\n")
    task = TASKS["plates"]
    params = task.params["validate"](min_width=32, min_height=32)
    manifest = task.read_raw(root, task.params["ingest"](), 0)
    result = validate_manifest(
        manifest,
        task,
        params,
        raw_dir=root,
        docs_dir=tmp_path / "docs",
        max_rejected_fraction=1.0,
        workers=2,
    )
    assert result.report["valid"] == 3 and result.report["rejected"] == 1
    reason = result.rejected["reason"].iloc[0]
    assert "too many pixels to decode safely" in reason
    assert "does not decode" not in reason

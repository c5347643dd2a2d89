"""One decode for every stage: any stored mode becomes 8-bit RGB; a damaged file is refused.

Each image is a few pixels made here with numpy/PIL/OpenCV, in the mode real photo sets
come in (RGBA PNG exports, greyscale, palettes, 16-bit PNG, Adobe CMYK JPEG, phone photos
with an EXIF orientation).
"""

import io
import warnings

import cv2
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from pipeline.core.images import (
    ImageDecodeError,
    ImageTooLargeError,
    decode_detailed,
    decode_image,
    inspect_image,
    read_image,
)
from pipeline.core.serving import rgb_images
from pipeline.core.validation import validate_manifest
from pipeline.tasks import TASKS


def _encoded(image: Image.Image, kind: str = "PNG", **options) -> bytes:
    out = io.BytesIO()
    image.save(out, kind, **options)
    return out.getvalue()


def _jpeg(seed: int = 0, width: int = 96, height: int = 64) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 255, (height, width, 3), dtype=np.uint8)
    return cv2.imencode(".jpg", cv2.GaussianBlur(pixels, (5, 5), 2))[1].tobytes()


def test_rgb_is_kept_as_stored_and_jpegs_decode_as_opencv_does():
    jpeg = _jpeg()
    decoded = decode_detailed(jpeg)
    expected = cv2.cvtColor(cv2.imdecode(np.frombuffer(jpeg, np.uint8), 1), cv2.COLOR_BGR2RGB)
    np.testing.assert_array_equal(decoded.pixels, expected)  # the same accurate integer IDCT
    assert (decoded.mode, decoded.conversion) == ("RGB", None)
    assert decoded.pixels.dtype == np.uint8 and decoded.pixels.flags.writeable


def test_alpha_is_dropped_not_composited():
    rgba = np.zeros((4, 6, 4), np.uint8)
    rgba[..., :3] = (10, 20, 30)
    rgba[..., 3] = [[0], [64], [128], [255]]  # transparent to opaque, row by row
    decoded = decode_detailed(_encoded(Image.fromarray(rgba, "RGBA")))
    assert decoded.conversion == "rgba->rgb"
    assert (decoded.pixels == (10, 20, 30)).all()  # the stored colour, whatever the alpha
    grey_alpha = Image.fromarray(np.dstack([np.full((4, 6), 90, np.uint8)] * 2), "LA")
    decoded = decode_detailed(_encoded(grey_alpha))
    assert decoded.conversion == "grey+alpha->rgb" and (decoded.pixels == 90).all()


def test_greyscale_is_repeated_into_three_channels():
    grey = np.arange(24, dtype=np.uint8).reshape(4, 6) * 10
    for data in (_encoded(Image.fromarray(grey, "L")), cv2.imencode(".jpg", grey)[1].tobytes()):
        decoded = decode_detailed(data)
        assert decoded.conversion == "grey->rgb" and decoded.pixels.shape == (4, 6, 3)
        assert (decoded.pixels[..., 0] == decoded.pixels[..., 2]).all()
    np.testing.assert_array_equal(decode_image(_encoded(Image.fromarray(grey, "L")))[..., 1], grey)


def test_a_palette_with_transparency_gives_its_colours_without_a_warning():
    palette = Image.fromarray(np.array([[0, 1, 2], [2, 1, 0]], np.uint8), "P")
    palette.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255])
    data = _encoded(palette, transparency=bytes([0, 255, 128]))  # tRNS per palette entry
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Pillow warns on P -> RGB with byte transparency
        decoded = decode_detailed(data)
    assert decoded.conversion == "palette->rgb"
    assert decoded.pixels[0].tolist() == [[255, 0, 0], [0, 255, 0], [0, 0, 255]]


def test_16_bit_samples_keep_their_high_byte():
    grey16 = np.array([[0, 257, 32768, 65535]], np.uint16)
    decoded = decode_detailed(cv2.imencode(".png", grey16)[1].tobytes())
    assert decoded.conversion == "16bit->8bit+grey->rgb"
    assert decoded.pixels[0, :, 0].tolist() == [0, 1, 128, 255]  # 65535 -> 255, not clipped
    colour16 = np.zeros((2, 2, 3), np.uint16)
    colour16[...] = (65535, 32768, 257)  # BGR as OpenCV writes it
    decoded = decode_detailed(cv2.imencode(".png", colour16)[1].tobytes())
    assert decoded.conversion == "16bit->8bit" and decoded.pixels[0, 0].tolist() == [1, 128, 255]


def test_an_adobe_cmyk_jpeg_gives_its_colours():
    cmyk = Image.new("CMYK", (16, 8), (0, 255, 255, 0))  # red ink on no black
    cmyk.paste((0, 0, 0, 0), (8, 0, 16, 8))  # no ink: paper white
    data = _encoded(cmyk, "JPEG", quality=95)
    assert Image.open(io.BytesIO(data)).info.get("adobe")  # stored inverted, as Photoshop does
    decoded = decode_detailed(data)
    assert decoded.mode == "CMYK" and decoded.conversion == "cmyk->rgb"
    assert np.abs(decoded.pixels[4, 2].astype(int) - (255, 0, 0)).max() <= 4
    assert np.abs(decoded.pixels[4, 13].astype(int) - (255, 255, 255)).max() <= 4


def test_an_exif_orientation_is_applied():
    stored = np.zeros((20, 40, 3), np.uint8)  # 40 wide: left half red, right half blue
    stored[:, :20] = (255, 0, 0)
    stored[:, 20:] = (0, 0, 255)
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned 90 degrees clockwise, as a phone held upright stores it
    data = _encoded(Image.fromarray(stored), "JPEG", quality=95, exif=exif)
    decoded = decode_detailed(data)
    assert decoded.conversion == "exif-rotated" and decoded.pixels.shape == (40, 20, 3)
    assert decoded.pixels[5, 10].tolist() == pytest.approx([255, 0, 0], abs=8)  # left -> top
    assert decoded.pixels[35, 10].tolist() == pytest.approx([0, 0, 255], abs=8)


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda d: d[: len(d) // 3], id="jpeg-cut-to-a-third"),
        pytest.param(lambda d: d[:-2], id="jpeg-without-its-end-marker"),
        pytest.param(
            lambda d: d[: len(d) // 3] + np.random.default_rng(1).bytes(len(d) - len(d) // 3),
            id="jpeg-end-replaced-by-garbage",
        ),
    ],
)
def test_a_damaged_jpeg_is_refused_not_filled(damage):
    with pytest.raises(ImageDecodeError, match="truncated or corrupt"):
        decode_image(damage(_jpeg(width=320, height=160)))


@pytest.mark.parametrize("keep", [2 / 3, -12])
def test_a_truncated_png_is_refused(keep):
    png = cv2.imencode(".png", np.random.default_rng(0).integers(0, 255, (64, 96, 3), np.uint8))
    data = png[1].tobytes()
    cut = data[: int(len(data) * keep)] if keep > 0 else data[:keep]  # -12: no IEND chunk
    with pytest.raises(ImageDecodeError, match="truncated or corrupt"):
        decode_image(cut)


def test_what_is_no_image_or_too_large_is_refused_before_decoding(tmp_path):
    with pytest.raises(ImageDecodeError, match="not an image"):
        decode_image(b"%PDF-1.7 not a photo")
    with pytest.raises(ImageTooLargeError, match="96 x 64 pixels is more than 1,000") as big:
        decode_image(_jpeg(), max_pixels=1000)
    assert big.value.size == (96, 64)
    assert issubclass(ImageDecodeError, ValueError)  # callers that caught ValueError still do
    with pytest.raises(ImageDecodeError, match="cannot be read"):
        read_image(tmp_path / "gone.jpg")
    (tmp_path / "ok.jpg").write_bytes(_jpeg())
    assert read_image(tmp_path / "ok.jpg").shape == (64, 96, 3)


def test_inspect_records_the_stored_mode_and_the_conversion(tmp_path):
    Image.new("RGBA", (40, 30), (1, 2, 3, 255)).save(tmp_path / "export.png")
    (tmp_path / "cut.jpg").write_bytes(_jpeg()[:500])
    info = inspect_image(tmp_path / "export.png", max_pixels=10_000)
    assert (info.decodes, info.width, info.height) == (True, 40, 30)
    assert (info.mode, info.conversion) == ("RGBA", "rgba->rgb")
    refused = inspect_image(tmp_path / "cut.jpg", max_pixels=10_000)
    assert refused.decodes is False and "truncated" in (refused.error or "")


def test_a_plates_folder_of_rgba_png_photos_validates_and_counts_its_conversions(tmp_path):
    root = tmp_path / "plates"
    root.mkdir()
    rng = np.random.default_rng(0)
    for i in range(4):  # opaque RGBA exports, the mode of most photos of a car-plate set
        rgba = np.dstack([rng.integers(0, 255, (64, 96, 3), np.uint8), np.full((64, 96), 255)])
        Image.fromarray(rgba.astype(np.uint8), "RGBA").save(root / f"car{i}.png")
        (root / f"car{i}.txt").write_text("0 0.5 0.5 0.2 0.1\n")
    Image.fromarray(rng.integers(0, 255, (64, 96), np.uint8), "L").save(root / "grey.png")
    (root / "grey.txt").write_text("0 0.5 0.5 0.2 0.1\n")
    (root / "cut.jpg").write_bytes(_jpeg(seed=5)[:700])
    (root / "cut.txt").write_text("0 0.5 0.5 0.2 0.1\n")
    task = TASKS["plates"]
    manifest = task.read_raw(root, task.params["ingest"](), 0)
    result = validate_manifest(
        manifest,
        task,
        task.params["validate"](min_width=32, min_height=32),
        raw_dir=root,
        docs_dir=tmp_path / "docs",
        max_rejected_fraction=1.0,
        workers=2,
    )
    report = result.report
    assert (report["rows_in"], report["valid"], report["rejected"]) == (6, 5, 1)
    assert report["image_conversions"] == {"grey->rgb": 1, "rgba->rgb": 4}
    assert result.rejected["reason"].tolist() == [
        "image: does not decode fully (truncated, corrupt or not an image)"
    ]


def test_serving_takes_every_mode_and_refuses_a_truncated_image():
    rgba = _encoded(Image.new("RGBA", (30, 20), (9, 8, 7, 0)))
    grey16 = cv2.imencode(".png", np.full((20, 30), 65535, np.uint16))[1].tobytes()
    cmyk = _encoded(Image.new("CMYK", (30, 20), (0, 0, 0, 0)), "JPEG")
    images = rgb_images(pd.DataFrame({"image": [rgba, grey16, cmyk, _jpeg()]}))
    assert [image.shape for image in images] == [(20, 30, 3)] * 3 + [(64, 96, 3)]
    assert images[0][0, 0].tolist() == [9, 8, 7] and (images[1] == 255).all()
    with pytest.raises(ValueError, match=r"image 1: not a decodable image: truncated or corrupt"):
        rgb_images(pd.DataFrame({"image": [rgba, _jpeg()[:600]]}))

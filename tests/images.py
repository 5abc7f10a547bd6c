"""Compare a rendered PDF page with a reference image committed under tests/data/print/."""

from __future__ import annotations

from pathlib import Path

import pypdfium2
from PIL import Image, ImageChops, ImageOps, ImageStat

REFERENCES = Path(__file__).parent / "data" / "print"


def render(pdf: Path, page: int) -> Image.Image:
    """Render one page to greyscale at 72 dpi."""
    image: Image.Image = pypdfium2.PdfDocument(pdf)[page].render(scale=1).to_pil().convert("L")
    return image


def ink_difference(pdf: Path, page: int, reference: str) -> float:
    """Return the mean pixel difference from the reference over the area where either image has ink.

    Over a whole, mostly white page even a blank render differs by less than 2; over the inked
    area a shift of one pixel differs by about 6, so a limit of 2 there is a real comparison.
    """
    image = render(pdf, page)
    expected = Image.open(REFERENCES / reference).convert("L")
    assert image.size == expected.size, (image.size, expected.size)
    ink, expected_ink = ImageOps.invert(image).getbbox(), ImageOps.invert(expected).getbbox()
    assert ink is not None and expected_ink is not None
    inked = (
        min(ink[0], expected_ink[0]),
        min(ink[1], expected_ink[1]),
        max(ink[2], expected_ink[2]),
        max(ink[3], expected_ink[3]),
    )
    return float(ImageStat.Stat(ImageChops.difference(image.crop(inked), expected.crop(inked))).mean[0])

"""Real images for the training tests: scikit-learn's 8×8 handwritten digits (1,797 of them,
shipped with the package, no download), written as an image folder of PNG files."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np


def write_digits(root: Path, size: int = 32, classes: Iterable[int] = range(10),
                 mode: str = "L") -> Path:  # fmt: skip
    """root/<digit>/<index>.png, each resized (bilinear) to size×size; mode "L" (grayscale)
    or "RGB" (the grey copied to three channels). Returns root."""
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    wanted = set(classes)
    for i, (pixels, label) in enumerate(zip(digits.images, digits.target, strict=True)):
        if label not in wanted:
            continue
        folder = root / str(label)
        folder.mkdir(parents=True, exist_ok=True)
        image = Image.fromarray((pixels / 16 * 255).astype(np.uint8), "L")
        image.resize((size, size), Image.BILINEAR).convert(mode).save(folder / f"{i:04d}.png")
    return root

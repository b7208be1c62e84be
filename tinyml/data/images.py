"""`images`: a folder with one sub-folder of PNG/JPEG images per class."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.errors import DataError
from .common import class_folders, require_path, split_arrays
from .dataset import Dataset

IMAGE_EXTS = {".png", ".jpg", ".jpeg", ".bmp"}


def read_image(path: Path, size: tuple[int, int] | None, grayscale: bool) -> np.ndarray:
    """One image as float32 HWC in [0, 1]; resized to size=(h, w) if given."""
    from PIL import Image, UnidentifiedImageError
    try:
        with Image.open(path) as im:
            im.load()   # decode now so truncated files fail here, naming the file
            im = im.convert("L" if grayscale else "RGB")
            if size is not None and im.size != (size[1], size[0]):
                im = im.resize((size[1], size[0]), Image.BILINEAR)
            arr = np.asarray(im, dtype=np.float32) / 255.0
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as e:
        raise DataError(f"cannot read image {path}: {e}",
                        hint="the file is corrupt or not an image; replace or delete it") from None
    return arr[..., None] if arr.ndim == 2 else arr


def load_images(cfg, seed: int = 0) -> Dataset:
    root = require_path(cfg, "images", "a folder of class sub-folders of images")
    classes = class_folders(root, IMAGE_EXTS, "images")
    size = tuple(cfg.image_size) if cfg.image_size else None
    xs, ys = [], []
    for ci, (_, files) in enumerate(classes):
        for f in files:
            arr = read_image(f, size, cfg.grayscale)
            if xs and arr.shape != xs[0].shape:
                raise DataError(f"image {f} is {arr.shape[0]}x{arr.shape[1]} (height x width) but "
                                f"{classes[0][1][0]} is {xs[0].shape[0]}x{xs[0].shape[1]}",
                                hint="set [data] image_size = [height, width] to resize every image")
            xs.append(arr)
            ys.append(ci)
    return split_arrays("images", np.stack(xs), np.array(ys), [c for c, _ in classes], cfg, seed,
                        meta={"path": str(root), "grayscale": cfg.grayscale})

"""How a model's inputs are made from a data set's images: declared, never guessed.

Every image is first brought to the model's input side (``fit_images``: resized,
or resized and centre-cropped, with Pillow's bilinear filter) and kept as uint8
RGB, NHWC, in the eval set. A worker then makes the model's float32 input from
those bytes with one named normalization (``--normalize``) in the layout of the
variant's file (NHWC or NCHW): the same arrays feed every runtime.

The names follow Keras's ``imagenet_utils.preprocess_input`` modes where one exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from harness.errors import UserError

IMAGENET_MEAN_RGB = (0.485, 0.456, 0.406)
IMAGENET_STD_RGB = (0.229, 0.224, 0.225)
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)


@dataclass(frozen=True)
class Normalization:
    """One named way from uint8 RGB pixels to the floats a model was trained on."""

    name: str
    formula: str  # for --help, the README and the report


NORMALIZATIONS = {
    n.name: n
    for n in (
        Normalization("raw", "the pixels as they are, 0..255"),
        Normalization("0-1", "x / 255, 0..1"),
        Normalization("tf", "x / 127.5 - 1, -1..1 (Keras's 'tf' mode: MobileNet, EfficientNet-lite, ...)"),
        Normalization(
            "torch",
            "(x / 255 - ImageNet mean) / ImageNet std, RGB (Keras's 'torch' mode, torchvision's models)",
        ),
        Normalization("caffe", "BGR, minus ImageNet's channel means, 0..255 (Keras's 'caffe' mode)"),
    )
}
# Other spellings people use (an argument starting with '-' needs --normalize=-1-1).
ALIASES = {"0-255": "raw", "-1-1": "tf", "imagenet": "torch"}
BUILTIN_NORMALIZATION = "0-1"  # what the built-in ResNet is trained on

RESIZE_MODES = ("center-crop", "stretch")


def normalization_name(text: str) -> str:
    """The canonical name of ``--normalize``; UserError listing the choices."""
    name = ALIASES.get(text, text)
    if name not in NORMALIZATIONS:
        choices = "; ".join(f"{n.name} ({n.formula})" for n in NORMALIZATIONS.values())
        raise UserError(f"unknown --normalize {text!r}; choose one of: {choices}.")
    return name


def model_inputs(images: np.ndarray, normalize: str, layout: str = "NHWC") -> np.ndarray:
    """float32 model inputs from uint8 NHWC images (channels 1 or 3), C-contiguous in ``layout``."""
    x = images.astype(np.float32)
    channels = x.shape[-1]
    if normalize == "0-1":
        x /= np.float32(255.0)
    elif normalize == "tf":
        x = x / np.float32(127.5) - np.float32(1.0)
    elif normalize == "torch":
        x = (x / np.float32(255.0) - _per_channel(IMAGENET_MEAN_RGB, channels)) / _per_channel(
            IMAGENET_STD_RGB, channels
        )
    elif normalize == "caffe":
        x = x[..., ::-1] - _per_channel(CAFFE_MEAN_BGR, channels)
    elif normalize != "raw":
        raise ValueError(f"unknown normalization {normalize!r}")
    if layout == "NCHW":
        x = x.transpose(0, 3, 1, 2)
    return np.ascontiguousarray(x, dtype=np.float32)


def _per_channel(values: tuple[float, float, float], channels: int) -> np.ndarray:
    """Per-channel constants, or their mean for a one-channel (grey) model."""
    chosen = values if channels == 3 else (sum(values) / 3,)
    return np.asarray(chosen, np.float32)


def fit_images(images: Sequence[np.ndarray], height: int, width: int, mode: str) -> np.ndarray:
    """uint8 images of any sizes (H×W×C) as one uint8 N×height×width×C array.

    ``center-crop``: scale the shorter side to fit, then cut the middle (no distortion);
    ``stretch``: scale each side to the target. Images already at the target pass unchanged.
    """
    from PIL import Image

    if mode not in RESIZE_MODES:
        raise UserError(f"unknown --resize {mode!r}; choose one of: {', '.join(RESIZE_MODES)}.")
    fitted = []
    for image in images:
        h, w = image.shape[:2]
        if (h, w) == (height, width):
            fitted.append(image)
            continue
        picture = Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image)
        if mode == "stretch":
            picture = picture.resize((width, height), Image.Resampling.BILINEAR)
        else:
            scale = max(height / h, width / w)
            scaled_w, scaled_h = max(width, round(w * scale)), max(height, round(h * scale))
            picture = picture.resize((scaled_w, scaled_h), Image.Resampling.BILINEAR)
            left, top = (scaled_w - width) // 2, (scaled_h - height) // 2
            picture = picture.crop((left, top, left + width, top + height))
        array = np.asarray(picture, dtype=np.uint8)
        fitted.append(array[..., None] if array.ndim == 2 else array)
    return np.ascontiguousarray(np.stack(fitted))


def with_channels(images: np.ndarray, channels: int) -> np.ndarray:
    """uint8 NHWC images with the model's channel count: RGB from grey, or grey (ITU-R 601-2
    luma, as Pillow's "L") from RGB."""
    have = images.shape[-1]
    if have == channels:
        return images
    if have == 1 and channels == 3:
        return np.ascontiguousarray(np.repeat(images, 3, axis=-1))
    if have == 3 and channels == 1:
        luma = images.astype(np.float32) @ np.asarray([0.299, 0.587, 0.114], np.float32)
        return np.ascontiguousarray(np.clip(np.rint(luma), 0, 255).astype(np.uint8)[..., None])
    raise UserError(f"images with {have} channels cannot feed a model that takes {channels}.")

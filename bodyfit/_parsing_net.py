"""A small convolutional network that labels a person's pixels from real photos.

Colour alone cannot tell skin from clothes of a skin-like colour: on 499 real street photos of
the Clothing Co-Parsing dataset (CCP) the face-chroma rule of ``_parsing`` called beige coats,
brown trousers, leopard prints and, under sunglasses or a scarf, dark jackets skin (skin
precision 0.52, IoU 0.49). The network sees the garment around a pixel. It was trained by
``scripts/train_parsing_net.py`` on the odd-numbered CCP photos (Apache-2.0,
github.com/bearpaw/clothing-co-parsing) and is measured on the even-numbered ones
(``benchmarks/parsing.py --ccp``); its weights ship in ``data/parsing_net.npz`` (float16, read
with ``allow_pickle=False``).

It reads the person's box, cut from the photo with ``MARGIN`` of its height above and below and
widened to ``INPUT_HW``'s aspect, and returns a probability per class of ``NET_LABELS``.
"""

from __future__ import annotations

import functools
from importlib import resources

import numpy as np

from tryon3d.bodyfit._parsing import LABELS

#: The network's classes, in output order: the parsing's own labels.
NET_LABELS: tuple[str, ...] = LABELS
#: Input size (rows, columns) [px]: divisible by 16 for the four poolings.
INPUT_HW = (256, 176)
#: The box round the person: this share of its height above and below.
MARGIN = 0.06
#: Channel widths per level of the encoder (the decoder mirrors them).
WIDTHS = (16, 32, 48, 64, 96)
#: ImageNet's per-channel mean and deviation of sRGB in [0, 255]: the input's normalisation.
PIXEL_MEAN = np.array([0.485, 0.456, 0.406]) * 255.0
PIXEL_STD = np.array([0.229, 0.224, 0.225]) * 255.0
WEIGHTS_FILE = "parsing_net.npz"


def build_net():
    """The network (untrained): a four-level U-Net with a dilated context block at the bottom,
    ``len(NET_LABELS)`` logits per pixel at the input's size."""
    import torch
    from torch import nn
    from torch.nn import functional

    def block(channels_in: int, channels_out: int) -> nn.Sequential:
        return nn.Sequential(
            nn.Conv2d(channels_in, channels_out, 3, padding=1, bias=False),
            nn.BatchNorm2d(channels_out),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels_out, channels_out, 3, padding=1, bias=False),
            nn.BatchNorm2d(channels_out),
            nn.ReLU(inplace=True),
        )

    class ParsingNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            c = WIDTHS
            self.enc = nn.ModuleList([block(3, c[0])] + [block(c[i], c[i + 1]) for i in range(4)])
            # dilated convolutions: the bottom sees the whole garment a pixel belongs to
            self.ctx = nn.Sequential(
                nn.Conv2d(c[4], c[4], 3, padding=2, dilation=2),
                nn.ReLU(inplace=True),
                nn.Conv2d(c[4], c[4], 3, padding=4, dilation=4),
                nn.ReLU(inplace=True),
            )
            self.dec = nn.ModuleList([block(c[i + 1] + c[i], c[i]) for i in range(4)])
            self.head = nn.Conv2d(c[0], len(NET_LABELS), 1)

        def forward(self, x):
            skips = []
            for i, encode in enumerate(self.enc):
                x = encode(x if i == 0 else functional.max_pool2d(x, 2))
                skips.append(x)
            x = x + self.ctx(x)
            for i in range(3, -1, -1):
                x = functional.interpolate(
                    x, size=skips[i].shape[-2:], mode="bilinear", align_corners=False
                )
                x = self.dec[i](torch.cat([x, skips[i]], 1))
            return self.head(x)

    return ParsingNet()


def person_box(rows: tuple[int, int], cols: tuple[int, int]) -> tuple[float, float, float, float]:
    """The network's input box (top, bottom, left, right) [px, may leave the image] round a
    person spanning image rows ``rows`` and columns ``cols`` (first, last + 1)."""
    tall = rows[1] - rows[0]
    top, bottom = rows[0] - MARGIN * tall, rows[1] + MARGIN * tall
    wide = (bottom - top) * INPUT_HW[1] / INPUT_HW[0]
    centre = 0.5 * (cols[0] + cols[1])
    return top, bottom, centre - 0.5 * wide, centre + 0.5 * wide


def box_transform(box: tuple[float, float, float, float]) -> np.ndarray:
    """The (2, 3) affine map from image pixels to the network's input for ``box``."""
    top, bottom, left, right = box
    sx, sy = INPUT_HW[1] / (right - left), INPUT_HW[0] / (bottom - top)
    return np.array([[sx, 0.0, -left * sx], [0.0, sy, -top * sy]])


def normalise(pixels: np.ndarray) -> np.ndarray:
    """(N, H, W, 3) sRGB [0, 255] -> the network's (N, 3, H, W) float32 input."""
    return ((pixels - PIXEL_MEAN) / PIXEL_STD).transpose(0, 3, 1, 2).astype(np.float32)


@functools.cache
def _trained_net():
    """The shipped network in eval mode, or None when ``data/parsing_net.npz`` is absent."""
    import torch

    try:
        source = resources.files("tryon3d.data").joinpath(WEIGHTS_FILE)
        with resources.as_file(source) as path, np.load(path, allow_pickle=False) as stored:
            state = {name: torch.from_numpy(stored[name].astype(np.float32)) for name in stored}
    except FileNotFoundError:
        return None
    net = build_net()
    for name in [n for n in state if n.endswith("num_batches_tracked")]:
        state[name] = state[name].long()
    net.load_state_dict(state)
    return net.eval()


def class_probabilities(pixels: np.ndarray, person: np.ndarray) -> np.ndarray | None:
    """Per pixel the probability of each ``NET_LABELS`` class, (H, W, 7) float32, for an
    (H, W, 3) uint8 sRGB image whose person lies in the (H, W) bool mask ``person``; outside
    the person's box, background. None when no weights ship or the mask is empty."""
    import cv2
    import torch

    net = _trained_net()
    rows, cols = np.flatnonzero(person.any(axis=1)), np.flatnonzero(person.any(axis=0))
    if net is None or len(rows) == 0:
        return None
    box = person_box((int(rows[0]), int(rows[-1]) + 1), (int(cols[0]), int(cols[-1]) + 1))
    forward = box_transform(box)
    height, width = person.shape
    image = pixels
    shrink = INPUT_HW[0] / (box[1] - box[0])
    if shrink < 0.7:  # area-average first: a bilinear warp alone would alias a large photo
        image = cv2.resize(
            pixels, None, fx=1.5 * shrink, fy=1.5 * shrink, interpolation=cv2.INTER_AREA
        )
        forward = forward @ np.diag([width / image.shape[1], height / image.shape[0], 1.0])
    net_input = cv2.warpAffine(
        image,
        forward,
        INPUT_HW[::-1],
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    with torch.no_grad():
        logits = net(torch.from_numpy(normalise(net_input[None].astype(np.float64))))
        probs = torch.softmax(logits, dim=1)[0].numpy().transpose(1, 2, 0)
    back = cv2.invertAffineTransform(box_transform(box))
    out = np.empty((height, width, len(NET_LABELS)), np.float32)
    for k in range(len(NET_LABELS)):
        out[..., k] = cv2.warpAffine(
            np.ascontiguousarray(probs[..., k]),
            back,
            (width, height),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=1.0 if k == 0 else 0.0,
        )
    return out

"""What the explorer tests share: the pictures an explorer shows, and three small test images."""
import numpy as np

PNG = b"\x89PNG"


def pictures(explorer) -> list:
    """The bytes of every picture the explorer shows."""
    return [v for v in explorer.snapshot() if isinstance(v, bytes)]


def three_images() -> np.ndarray:
    """(3, 1, 28, 28) float32: a bar, a band and noise, three different pictures for notebook 11's explorers."""
    x = np.zeros((3, 1, 28, 28), dtype=np.float32)
    x[0, 0, 5:20, 8:14] = 1.0
    x[1, 0, 10:14, 2:26] = 0.7
    x[2] = np.random.default_rng(0).random((1, 28, 28))
    return x

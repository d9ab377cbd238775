"""helpers: the small numpy library behind the notebooks of this course.

Read it in the order the notebooks meet it:

    conv.py      conv2d (vectorized), conv2d_loops (the definition as loops), output_size
    kernels.py   named 3x3 kernels: identity, blur, sharpen, edge, emboss, Sobel
    images.py    the sample photo and digits, grayscale, normalising, BGR/RGB
    pooling.py   max and average pooling
    widgets/     one interactive explorer per notebook topic
    checks.py    self-checks for the exercises
"""
from .conv import conv2d, conv2d_loops, output_size
from .pooling import pool2d

__all__ = ["conv2d", "conv2d_loops", "output_size", "pool2d"]
__version__ = "0.1.0"

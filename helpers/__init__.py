"""helpers: the small numpy library behind the notebooks of this course.

Read it in the order the notebooks meet it:

    images.py     the sample photo and digits, grayscale, normalising, BGR/RGB        (notebook 01)
    conv.py       output_size, conv2d_loops (the definition as loops), im2col/col2im,
                  conv2d (vectorized: im2col and one matrix product)                  (02, 04)
    shapes.py     output_size, padding, and the strided window view conv and pooling share;
                  how windows tile an axis, a receptive field measured by backprop     (04, 08)
    fast_conv.py  the same convolution, arranged for speed (read conv.py first)
    kernels.py    named kernels: identity, blur, sharpen, edge, emboss, Sobel         (02, 03)
    pooling.py    max and average pooling, their backward pass; what a shift changes  (05)
    losses.py     softmax, log-softmax, cross-entropy                                 (06)
    nn.py         layers with forward and backward passes side by side, a layer tree:
                  Sequential and Residual are layers with children                    (07, 08, 09, 10)
    fast_nn.py    the layers' fast paths (read nn.py first)
    optim.py      SGD with momentum, Adam; AdamW, L2, step and cosine schedules        (07, 09)
    gradcheck.py  gradients checked against finite differences                        (07)
    datasets.py   MNIST and Fashion-MNIST: find, verify, download, parse              (07)
    training.py   one training step, the training loop, evaluation, saving weights   (07)
    runs.py       train here, or load the shipped run (CNN_COURSE_TRAIN)              (07, 09, 10, 11)
    models.py     the course's reference networks                                     (07, 08)
    augment.py    data augmentation: random shifts and left-right flips of a batch    (09)
    interpret.py  inside a trained network: feature maps, top patches, occlusion, saliency (11)
    plotting.py   figures several notebooks draw: values on a small grid, a mosaic of tiles
    style.py      one look for every figure: resolution and font sizes
    widgets/      one interactive explorer per notebook topic
    checks/       self-checks for the exercises

Behind the scenes: _arguments.py (checks of the arguments the functions are called with, with
errors that say how to fix them) and _threads.py (sharing work out over the CPU cores).
"""
from .conv import conv2d, conv2d_loops, output_size
from .pooling import pool2d

__all__ = ["conv2d", "conv2d_loops", "output_size", "pool2d"]
__version__ = "0.1.0"

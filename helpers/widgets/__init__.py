"""Interactive explorers, one per notebook topic. Display one by leaving it as the last line of a cell."""

# Notebooks 04-06: padding and stride, pooling, softmax.
from .padding_stride import PaddingStrideExplorer as PaddingStrideExplorer
from .padding_stride import ReceptiveFieldExplorer as ReceptiveFieldExplorer
from .pixels import PixelInspector as PixelInspector  # notebook 01
from .playground import KernelPlayground as KernelPlayground  # notebook 02
from .pooling import PoolingExplorer as PoolingExplorer
from .scrubber import ConvolutionScrubber as ConvolutionScrubber  # notebook 02
from .sobel import SobelExplorer as SobelExplorer  # notebook 03
from .softmax import SoftmaxExplorer as SoftmaxExplorer

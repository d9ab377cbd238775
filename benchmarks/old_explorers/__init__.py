"""The explorers as they were before the panel redesign: every redraw drew the whole matplotlib figure and
sent it as one PNG. Kept, frozen, only so that benchmarks/bench_explorers.py can time the old path next to
the new one in the same run. Not part of the course: do not import it from notebooks or helpers.
"""

from .filters import FilterExplorer as FilterExplorer
from .optimizers import OptimizerExplorer as OptimizerExplorer
from .padding_stride import PaddingStrideExplorer as PaddingStrideExplorer
from .padding_stride import ReceptiveFieldExplorer as ReceptiveFieldExplorer
from .pixels import PixelInspector as PixelInspector
from .playground import KernelPlayground as KernelPlayground
from .pooling import PoolingExplorer as PoolingExplorer
from .scrubber import ConvolutionScrubber as ConvolutionScrubber
from .sobel import SobelExplorer as SobelExplorer
from .softmax import SoftmaxExplorer as SoftmaxExplorer

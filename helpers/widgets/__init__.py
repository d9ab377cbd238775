"""Interactive explorers, one per notebook topic. Display one by leaving it as the last line of a cell."""

from .adversarial import AdversarialExplorer as AdversarialExplorer  # notebook 11
from .architecture import ArchitectureExplorer as ArchitectureExplorer  # notebooks 08, 10
from .cam import CamExplorer as CamExplorer  # notebook 11
from .filters import FilterExplorer as FilterExplorer  # notebook 07
from .inside import FeatureMapExplorer as FeatureMapExplorer  # notebook 11
from .optimizers import OptimizerExplorer as OptimizerExplorer  # notebook 09
from .padding_stride import PaddingStrideExplorer as PaddingStrideExplorer  # notebook 04
from .padding_stride import ReceptiveFieldExplorer as ReceptiveFieldExplorer  # notebook 04
from .pixels import PixelInspector as PixelInspector  # notebook 01
from .playground import KernelPlayground as KernelPlayground  # notebook 02
from .pooling import PoolingExplorer as PoolingExplorer  # notebook 05
from .scrubber import ConvolutionScrubber as ConvolutionScrubber  # notebook 02
from .sobel import SobelExplorer as SobelExplorer  # notebook 03
from .softmax import SoftmaxExplorer as SoftmaxExplorer  # notebook 06

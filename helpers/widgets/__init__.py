"""Interactive explorers, one per notebook topic. Display one by leaving it as the last line of a cell."""

# Notebooks 04-06: padding and stride, pooling, softmax.
from .padding_stride import PaddingStrideExplorer as PaddingStrideExplorer
from .padding_stride import ReceptiveFieldExplorer as ReceptiveFieldExplorer
from .pooling import PoolingExplorer as PoolingExplorer
from .softmax import SoftmaxExplorer as SoftmaxExplorer

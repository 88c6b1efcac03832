"""archcompiler: declarative CNN specs → shapes, params and MACs → Keras models."""

import os

# TensorFlow's stock CPU kernels cannot run a depthwise conv with unequal strides or a dilated
# transposed conv; its oneDNN kernels can. TensorFlow turns oneDNN on by default only on some
# CPUs (not on AMD EPYC, for one), so a spec that builds could not train or predict there. Set
# before TensorFlow is imported (this package imports it lazily); a user's own setting wins.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

"""XLA compiler options of the jitted train step.

`config.cpu_conv_backend` picks the kernels XLA:CPU runs convolutions with:
  'ynnpack'  jaxlib's default (0.10.2): dots and convolutions both go to YNNPACK.
  'xla'      dots stay on YNNPACK, convolutions run on XLA's own CPU kernels.
'xla' is faster for the DCGAN's stride-2 4x4 layers (on 2-core AVX2 and AVX-512 CPUs), 'ynnpack'
for StyleGAN's 3x3 layers (on a 2-core AVX2 CPU); the figures are in docs/performance.md. Other
backends (GPU, TPU) ignore the setting. Both compute the same function, up to float rounding.
"""
import functools

import jax
from absl import logging

CPU_CONV_BACKENDS = ('ynnpack', 'xla')
_YNN_FUSIONS = 'xla_cpu_experimental_ynn_fusion_type'
_DOTS_ONLY = 'LIBRARY_FUSION_TYPE_INDIVIDUAL_DOT'


def check_cpu_conv_backend(name: str):
  if name not in CPU_CONV_BACKENDS:
    raise ValueError(f'Unknown config.cpu_conv_backend {name!r}; valid: {list(CPU_CONV_BACKENDS)}.')


def train_step_options(cpu_conv_backend: str = 'ynnpack'):
  """`compiler_options` for jax.jit: None (the defaults) unless 'xla' is asked for on CPU."""
  check_cpu_conv_backend(cpu_conv_backend)
  if cpu_conv_backend == 'ynnpack' or jax.default_backend() != 'cpu':
    return None
  if not _dots_only_supported():
    logging.warning("This jaxlib (%s) has no XLA option %s; config.cpu_conv_backend='xla' is "
                    "ignored and convolutions keep jaxlib's default kernels.", jax.__version__,
                    _YNN_FUSIONS)
    return None
  return {_YNN_FUSIONS: _DOTS_ONLY}


@functools.cache
def _dots_only_supported() -> bool:
  """Whether this jaxlib accepts the option (it is experimental: older and newer ones may not)."""
  try:
    jax.jit(lambda x: x + 1).lower(1.0).compile({_YNN_FUSIONS: _DOTS_ONLY})
  except Exception:  # pylint: disable=broad-except  (XlaRuntimeError / ValueError by version)
    return False
  return True

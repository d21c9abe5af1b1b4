"""XLA compiler options of the jitted train step.

`config.cpu_conv_backend` picks the kernels XLA:CPU runs convolutions with:
  'ynnpack'  jaxlib's default (0.10.2): dots and convolutions both go to YNNPACK.
  'xla'      dots stay on YNNPACK, convolutions run on XLA's own CPU kernels.
Measured on a 2-core AVX2 CPU (README, "Speed"): 'xla' is faster for the DCGAN's stride-2 4x4
layers (a 32x32x64 -> 16x16x128 forward: 24-29 vs 31-53 ms in alternating runs), 'ynnpack' for
StyleGAN's 3x3 layers (the whole StyleGAN step: 0.86 vs 0.55 steps/s). Other backends (GPU,
TPU) ignore the setting. Both compute the same function, up to float rounding. On a 2-core
AVX-512 CPU 'xla' was faster for the DCGAN too (a 64x64 step: 1,188 vs 1,643 ms).
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

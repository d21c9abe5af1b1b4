"""Bicubic resizing as the super-resolution literature makes its low-resolution inputs.

SRGAN (Ledig et al. 2017) and the benchmarks it reports on (Set5, Set14, BSD100) make the LR image
with MATLAB's `imresize(hr, 1/scale, 'bicubic')`: Keys' cubic convolution kernel with a = -0.5,
stretched by the scale factor when shrinking (an anti-aliasing low-pass), each output pixel
centred at (i + 0.5) * scale - 0.5 in input pixels. `jax.image.resize(method='bicubic',
antialias=True)` computes the same kernel, support and centres (jax 0.10); the one difference is
at the border, where MATLAB pads by mirroring and jax drops the taps that fall outside the image
and renormalises the rest. Interior pixels agree (to float rounding).
"""
import functools

import jax
import jax.numpy as jnp


def check_scale(height, width, scale):
  """Raises ValueError unless H and W are positive multiples of the integer `scale` >= 2."""
  if int(scale) != scale or scale < 2:
    raise ValueError(f'The super-resolution scale must be an integer >= 2; got {scale}.')
  if height % scale or width % scale or height < scale:
    raise ValueError(f'High-resolution images of {height}x{width} are not divisible by the '
                     f'scale {scale}: choose image_size (or crops) a multiple of {scale}.')


@functools.partial(jax.jit, static_argnames='scale')
def bicubic_downsample(images, scale: int):
  """NHWC float images shrunk by `scale` with the anti-aliased bicubic kernel (MATLAB imresize)."""
  n, h, w, c = images.shape
  check_scale(h, w, scale)
  return jax.image.resize(images.astype(jnp.float32), (n, h // scale, w // scale, c), 'bicubic',
                          antialias=True)


@functools.partial(jax.jit, static_argnames='scale')
def bicubic_upsample(images, scale: int):
  """NHWC float images enlarged by `scale` with the bicubic kernel: the baseline SR method."""
  n, h, w, c = images.shape
  return jax.image.resize(images.astype(jnp.float32), (n, h * scale, w * scale, c), 'bicubic')

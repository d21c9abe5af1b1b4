"""Strided convolution whose gradients are matrix products (fast on XLA:CPU).

The forward pass is `lax.conv_general_dilated`. Autodiff would differentiate it into a
window-dilated convolution for the kernel gradient, which XLA:CPU ran at 1.9-7 GFLOP/s on the
DCGAN discriminator's layers (batch 64). Here the backward pass differentiates the same function
written as im2col: the k*k strided slices of the padded input concatenated into patches and one
matmul with the kernel. Its kernel gradient is patches^T @ g (a matmul) and its input gradient is
(g @ kernel^T) scattered back through the slices (pads and adds), 1.3-6x faster than lax's
backward on those layers (measured in one run, benchmarks/transposed_conv_layers.py --conv).
"""
import functools
from typing import Any, Callable, Sequence, Tuple

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax

_NHWC = ('NHWC', 'HWIO', 'NHWC')


def _im2col_conv(x, kernel, strides, padding):
  (kh, kw, c, f), (sh, sw) = kernel.shape, strides
  xp = jnp.pad(x, ((0, 0), padding[0], padding[1], (0, 0)))
  out_h = (xp.shape[1] - kh) // sh + 1
  out_w = (xp.shape[2] - kw) // sw + 1
  patches = jnp.concatenate(
      [lax.slice(xp, (0, i, j, 0), (xp.shape[0], i + sh * (out_h - 1) + 1,
                                    j + sw * (out_w - 1) + 1, c), (1, sh, sw, 1))
       for i in range(kh) for j in range(kw)], axis=-1)
  return (patches.reshape(-1, kh * kw * c) @ kernel.reshape(kh * kw * c, f)).reshape(
      x.shape[0], out_h, out_w, f)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def conv2d(x, kernel, strides: Tuple[int, int], padding: Tuple[Tuple[int, int], ...]):
  """NHWC x HWIO convolution with explicit padding; equals lax.conv_general_dilated."""
  return lax.conv_general_dilated(x, kernel, strides, padding, dimension_numbers=_NHWC)


def _conv2d_fwd(x, kernel, strides, padding):
  return conv2d(x, kernel, strides, padding), (x, kernel)


def _conv2d_bwd(strides, padding, residuals, g):
  x, kernel = residuals
  _, vjp = jax.vjp(lambda x, k: _im2col_conv(x, k, strides, padding), x, kernel)
  return vjp(g)


conv2d.defvjp(_conv2d_fwd, _conv2d_bwd)


class Conv(nn.Module):
  """Drop-in for `flax.linen.Conv` (2-d, explicit padding pairs) with the im2col backward.

  Parameters are flax's: 'kernel' (kh, kw, in, out) and 'bias'.
  """
  features: int
  kernel_size: Sequence[int]
  strides: Sequence[int] = (1, 1)
  padding: Sequence[Tuple[int, int]] = ((0, 0), (0, 0))
  use_bias: bool = True
  kernel_init: Callable = nn.initializers.lecun_normal()
  bias_init: Callable = nn.initializers.zeros_init()
  dtype: Any = None

  @nn.compact
  def __call__(self, x):
    kernel = self.param('kernel', self.kernel_init,
                        tuple(self.kernel_size) + (x.shape[-1], self.features))
    bias = self.param('bias', self.bias_init, (self.features,)) if self.use_bias else None
    x, kernel, bias = nn.dtypes.promote_dtype(x, kernel, bias, dtype=self.dtype)
    y = conv2d(x, kernel, tuple(self.strides), tuple(tuple(p) for p in self.padding))
    return y + bias if bias is not None else y

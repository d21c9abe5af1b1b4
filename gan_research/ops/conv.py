"""Strided convolution with hand-written gradients (fast on XLA:CPU).

The forward pass is `lax.conv_general_dilated`. Autodiff would differentiate it into a
window-dilated convolution for the kernel gradient, which XLA:CPU's default (YNNPACK) kernels
in jaxlib 0.10.2 run far slower than ordinary convolutions on the DCGAN discriminator's layers.
Two backward passes, the same values:

  'im2col'  differentiates the function written as im2col: the k*k strided slices of the padded
            input concatenated into patches and one matmul with the kernel. The kernel gradient
            is patches^T @ g (a matmul), the input gradient (g @ kernel^T) scattered back through
            the slices (pads and adds): faster than lax's backward on those layers with the
            default kernels (benchmarks/transposed_conv_layers.py --conv).
  'conv'    the input gradient as the transposed convolution of g (ops/conv_transpose.py's
            sub-pixel form: stride-1 convolutions, no scatter) and the kernel gradient as one
            convolution of the padded input with g dilated by the stride. With XLA's own
            convolution kernels (config.cpu_conv_backend='xla') it computes both gradients of
            the DCGAN discriminator's layers faster than 'im2col'.
The figures are in docs/performance.md.
"""
import functools
from typing import Any, Callable, Sequence, Tuple

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax

from gan_research.ops import conv_transpose

_NHWC = ('NHWC', 'HWIO', 'NHWC')
BACKWARD_METHODS = ('im2col', 'conv')
DEFAULT_BACKWARD = 'im2col'


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


def _backward_im2col(x, kernel, g, strides, padding):
  _, vjp = jax.vjp(lambda x, k: _im2col_conv(x, k, strides, padding), x, kernel)
  return vjp(g)


def _backward_conv(x, kernel, g, strides, padding):
  """Per dim, input length N, kernel k, stride s, padding (lo, hi) and output length n: x[i]
  reaches y[o] through tap t = i + lo - s*o. So

    dx[i] = sum_o kernel[k-1-t'] g[o] with i = s*o + (k-1-lo) - t': the transposed convolution of
            g with the flipped, channel-swapped kernel and dilated-input padding
            (k-1-lo, N - (n-1)*s - 1 - (k-1-lo) + k - 1), whose output length is N;
    dk[t] = sum_o xp[s*o + t] g[o]: the padded input xp, cut to the (n-1)*s + k entries the
            forward pass read, correlated with g dilated by s.
  """
  (kh, kw, _, _), n_hw = kernel.shape, g.shape[1:3]
  transpose_pads, input_pads = [], []
  for big_n, n, k, s, (lo, _) in zip(x.shape[1:3], n_hw, (kh, kw), strides, padding):
    pa = k - 1 - lo
    transpose_pads.append((pa, big_n - (n - 1) * s - 1 - pa + k - 1))
    input_pads.append((lo, (n - 1) * s + k - big_n - lo))
  flipped = jnp.swapaxes(kernel[::-1, ::-1], 2, 3)
  dx = conv_transpose.conv_transpose(g, flipped, strides, tuple(transpose_pads), backward='conv')
  zero = jnp.zeros((), x.dtype)
  xp = lax.pad(x, zero, ((0, 0, 0),) + tuple((lo, hi, 0) for lo, hi in input_pads) + ((0, 0, 0),))
  # Batch is the contracted dim: x's batch as the "feature", its channels as the "batch".
  dk = lax.conv_general_dilated(xp, g, (1, 1), 'VALID', rhs_dilation=strides,
                                dimension_numbers=('CHWN', 'IHWO', 'HWNC'))
  return dx, dk


_BACKWARDS = {'im2col': _backward_im2col, 'conv': _backward_conv}


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3, 4))
def _conv2d(x, kernel, strides, padding, backward):
  return lax.conv_general_dilated(x, kernel, strides, padding, dimension_numbers=_NHWC)


def _conv2d_fwd(x, kernel, strides, padding, backward):
  return _conv2d(x, kernel, strides, padding, backward), (x, kernel)


def _conv2d_bwd(strides, padding, backward, residuals, g):
  x, kernel = residuals
  dx, dk = _BACKWARDS[backward](x, kernel, g, strides, padding)
  return dx.astype(x.dtype), dk.astype(kernel.dtype)


_conv2d.defvjp(_conv2d_fwd, _conv2d_bwd)


def conv2d(x, kernel, strides: Tuple[int, int], padding: Tuple[Tuple[int, int], ...],
           backward: str = DEFAULT_BACKWARD):
  """NHWC x HWIO convolution with explicit padding; equals lax.conv_general_dilated.

  backward: 'im2col' or 'conv' (module docstring); 'conv' needs every stride <= its kernel size
  and falls back to 'im2col' otherwise. Both give the same gradients, to any order.
  """
  if backward not in BACKWARD_METHODS:
    raise ValueError(f'Unknown conv backward {backward!r}; valid: {list(BACKWARD_METHODS)}.')
  if backward == 'conv' and any(s > k for s, k in zip(strides, kernel.shape[:2])):
    backward = 'im2col'  # the transposed convolution would leave output phases with no tap
  return _conv2d(x, kernel, tuple(strides), tuple(tuple(p) for p in padding), backward)


class Conv(nn.Module):
  """Drop-in for `flax.linen.Conv` (2-d, explicit padding pairs) with a hand-written backward.

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
  backward: str = DEFAULT_BACKWARD  # 'im2col' or 'conv' (module docstring)

  @nn.compact
  def __call__(self, x):
    kernel = self.param('kernel', self.kernel_init,
                        tuple(self.kernel_size) + (x.shape[-1], self.features))
    bias = self.param('bias', self.bias_init, (self.features,)) if self.use_bias else None
    x, kernel, bias = nn.dtypes.promote_dtype(x, kernel, bias, dtype=self.dtype)
    y = conv2d(x, kernel, tuple(self.strides), tuple(tuple(p) for p in self.padding),
               self.backward)
    return y + bias if bias is not None else y

"""Transposed convolution that is fast to differentiate on XLA:CPU.

`jax.lax.conv_transpose` (and so `flax.linen.ConvTranspose`) is a convolution of the input dilated
by the stride ("lhs dilation"). Its autodiff weight gradient is another lhs-dilated convolution,
which XLA:CPU (jaxlib 0.10.2) runs far slower than ordinary convolutions (docs/performance.md).
Here the same function is written as the adjoint of a strided convolution, with a
`jax.custom_vjp` whose gradients are ordinary convolutions, and a forward pass chosen by
measurement (benchmarks/transposed_conv_layers.py).

Notation, per spatial dimension (the two dimensions are independent): input length n, kernel
size k, stride s and the padding (pa, pb) that lax.conv_transpose gives the dilated input, so

    y[o] = sum_t kernel[t] * xd[o + t - pa],   xd[s*i] = x[i] and zero elsewhere,

that is, x[i] reaches y[o] through tap t exactly when o = s*i + pa - t, and the output length is
m = (n - 1)*s + 1 + pa + pb - k + 1.
"""
import functools
from typing import Any, Callable, NamedTuple, Sequence, Tuple, Union

import flax.linen as nn
from flax.linen import dtypes
import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

PaddingLike = Union[str, Sequence[Tuple[int, int]]]

_NHWC = ('NHWC', 'HWIO', 'NHWC')
# Forward implementations, all exactly the same function (up to float rounding); see
# benchmarks/transposed_conv_layers.py for what each costs on XLA:CPU.
FORWARD_METHODS = ('auto', 'subpixel', 'subpixel_fused', 'lhs_dilated')
DEFAULT_FORWARD = 'auto'
# 'auto': the fused form when the output has few channels (then the per-phase convolutions of
# 'subpixel' are too thin to run well on XLA:CPU; docs/performance.md), else 'subpixel' (within
# noise of the fused form on the wider DCGAN layers, and no extra rows).
_AUTO_FUSED_BELOW_FEATURES = 16
BACKWARD_METHODS = ('im2col', 'conv')
DEFAULT_BACKWARD = 'im2col'


class _Config(NamedTuple):
  """Static (hashable) description of one transposed convolution."""
  strides: Tuple[int, int]
  pads: Tuple[Tuple[int, int], Tuple[int, int]]  # (pa, pb) of the dilated input, per dim
  forward: str
  backward: str


def transpose_padding(kernel_size: int, stride: int, padding) -> Tuple[int, int]:
  """(pa, pb) padding of the dilated input that lax.conv_transpose uses, for one dimension.

  'SAME' gives output length n*s; 'VALID' gives n*s + max(k - s, 0); an explicit (lo, hi) pair is
  used as is (lax.conv_transpose's default, `use_consistent_padding=False`).
  """
  k, s = kernel_size, stride
  if padding == 'SAME':
    pad_len = k + s - 2
    pad_a = k - 1 if s > k - 1 else int(np.ceil(pad_len / 2))
  elif padding == 'VALID':
    pad_len = k + s - 2 + max(k - s, 0)
    pad_a = k - 1
  else:
    pad_a, pad_b = padding
    return int(pad_a), int(pad_b)
  return pad_a, pad_len - pad_a


def _make_config(kernel_shape, strides, padding, forward, backward) -> _Config:
  if len(kernel_shape) != 4:
    raise ValueError(f'conv_transpose supports 2-d convolutions only: NHWC inputs and HWIO '
                     f'kernels; got a kernel of shape {tuple(kernel_shape)}.')
  if isinstance(strides, int):
    strides = (strides, strides)
  strides = tuple(int(s) for s in strides)
  if len(strides) != 2 or min(strides) < 1:
    raise ValueError(f'strides must be two positive ints; got {strides}.')
  if isinstance(padding, str):
    padding = padding.upper()
    if padding not in ('SAME', 'VALID'):
      raise ValueError(f"padding must be 'SAME', 'VALID' or two (lo, hi) pairs; got {padding!r}.")
    per_dim = (padding, padding)
  else:
    per_dim = tuple(tuple(p) for p in padding)
    if len(per_dim) != 2 or any(len(p) != 2 for p in per_dim):
      raise ValueError(f'explicit padding must be two (lo, hi) pairs; got {padding!r}.')
  if forward not in FORWARD_METHODS:
    raise ValueError(f'forward must be one of {FORWARD_METHODS}; got {forward!r}.')
  if backward not in BACKWARD_METHODS:
    raise ValueError(f'backward must be one of {BACKWARD_METHODS}; got {backward!r}.')
  if forward == 'auto':
    forward = 'subpixel_fused' if kernel_shape[3] < _AUTO_FUSED_BELOW_FEATURES else 'subpixel'
  pads = tuple(transpose_padding(k, s, p) for k, s, p in zip(kernel_shape[:2], strides, per_dim))
  for k, s, (pa, pb) in zip(kernel_shape[:2], strides, pads):
    if k < s:
      # Some output phases would get no kernel tap at all; nothing needs this.
      raise ValueError(f'conv_transpose needs kernel_size >= stride; got kernel {k}, stride {s}.')
  return _Config(strides, pads, forward, backward)


def _pad_spatial(x, pads):
  """Zero-pads (or, for negative amounts, crops) the two spatial dims of an NHWC array."""
  zero = jnp.zeros((), x.dtype)
  return lax.pad(x, zero, ((0, 0, 0), (pads[0][0], pads[0][1], 0), (pads[1][0], pads[1][1], 0),
                           (0, 0, 0)))


def _out_size(n, k, s, pads):
  return (n - 1) * s + 1 + pads[0] + pads[1] - k + 1


# ------------------------------------------------------------------------------------------------
# Forward implementations.


def _forward_lhs_dilated(x, kernel, cfg: _Config):
  """lax.conv_transpose itself: a stride-1 convolution of the stride-dilated input."""
  return lax.conv_general_dilated(x, kernel, (1, 1), cfg.pads, lhs_dilation=cfg.strides,
                                  dimension_numbers=_NHWC)


def _phases(n, k, s, pads):
  """Sub-pixel decomposition of one dimension.

  Output phase r (outputs o = s*j + r) sees only the taps t = t0, t0 + s, ... with
  t = (pa - r) mod s, and y[s*j + r] = sum_u kernel[t0 + u*s] * x[j + d0 + u], d0 = (r - pa + t0)/s:
  a stride-1 correlation with a sub-kernel. Returns (length per phase, [(t0, d0, taps)]).
  """
  m = _out_size(n, k, s, pads)
  per_phase = -(-m // s)
  phases = []
  for r in range(s):
    t0 = (pads[0] - r) % s
    phases.append((t0, (r - pads[0] + t0) // s, len(range(t0, k, s))))
  return per_phase, phases


def _interleave(phase_outputs, out_hw):
  """[[y_(rh, rw)]] of shape (B, J, J', C) -> y (B, J*s, J'*s, C), cropped to out_hw."""
  y = jnp.stack([jnp.stack(row, axis=3) for row in phase_outputs], axis=2)  # (B, J, sh, J', sw, C)
  b, j, sh, j2, sw, c = y.shape
  y = y.reshape(b, j * sh, j2 * sw, c)
  return y[:, :out_hw[0], :out_hw[1], :]


def _forward_subpixel(x, kernel, cfg: _Config):
  """s_h * s_w stride-1 convolutions with the sub-kernels, interleaved (depth-to-space).

  Does exactly the multiply-adds of the transposed convolution: none with the dilation zeros.
  """
  (sh, sw), (n_h, n_w) = cfg.strides, x.shape[1:3]
  kh, kw = kernel.shape[:2]
  jh, ph = _phases(n_h, kh, sh, cfg.pads[0])
  jw, pw = _phases(n_w, kw, sw, cfg.pads[1])
  rows = []
  for t0h, d0h, uh in ph:
    row = []
    for t0w, d0w, uw in pw:
      sub = kernel[t0h::sh, t0w::sw]
      # Output j reads x[j + d0 .. j + d0 + u - 1], for j in [0, J).
      pads = ((-d0h, jh - 1 + d0h + uh - n_h), (-d0w, jw - 1 + d0w + uw - n_w))
      row.append(lax.conv_general_dilated(_pad_spatial(x, pads), sub, (1, 1), 'VALID',
                                          dimension_numbers=_NHWC))
    rows.append(row)
  out_hw = (_out_size(n_h, kh, sh, cfg.pads[0]), _out_size(n_w, kw, sw, cfg.pads[1]))
  return _interleave(rows, out_hw)


def _forward_subpixel_fused(x, kernel, cfg: _Config):
  """One stride-1 convolution with s_h*s_w*C_out output channels, then depth-to-space.

  Phase r's window starts at j + d0_r; shifting its output by d0_r - min(d0) lines all windows
  up, so one kernel of ceil(k/s) taps per dim serves every phase (phases with fewer taps get
  zero taps). It costs (J + shift)/J extra output rows and columns, but is a single large conv.
  """
  (sh, sw), (n_h, n_w) = cfg.strides, x.shape[1:3]
  kh, kw, cin, cout = kernel.shape
  jh, ph = _phases(n_h, kh, sh, cfg.pads[0])
  jw, pw = _phases(n_w, kw, sw, cfg.pads[1])

  def layout(phases, k, s):
    base = min(d0 for _, d0, _ in phases)
    shifts = [d0 - base for _, d0, _ in phases]
    return base, shifts, max(u for _, _, u in phases)

  base_h, shifts_h, uh = layout(ph, kh, sh)
  base_w, shifts_w, uw = layout(pw, kw, sw)
  subs = []
  for t0h, _, nh in ph:
    for t0w, _, nw in pw:
      sub = kernel[t0h::sh, t0w::sw]
      subs.append(jnp.pad(sub, ((0, uh - nh), (0, uw - nw), (0, 0), (0, 0))))
  fused = jnp.concatenate(subs, axis=-1)  # (uh, uw, cin, sh*sw*cout), phase-major channels
  lh, lw = jh + max(shifts_h), jw + max(shifts_w)
  pads = ((-base_h, lh - 1 + base_h + uh - n_h), (-base_w, lw - 1 + base_w + uw - n_w))
  z = lax.conv_general_dilated(_pad_spatial(x, pads), fused, (1, 1), 'VALID',
                               dimension_numbers=_NHWC)
  z = z.reshape(z.shape[:3] + (sh, sw, cout))
  rows = [[z[:, a:a + jh, b:b + jw, rh, rw, :] for rw, b in enumerate(shifts_w)]
          for rh, a in enumerate(shifts_h)]
  out_hw = (_out_size(n_h, kh, sh, cfg.pads[0]), _out_size(n_w, kw, sw, cfg.pads[1]))
  return _interleave(rows, out_hw)


_FORWARDS = {
    'lhs_dilated': _forward_lhs_dilated,
    'subpixel': _forward_subpixel,
    'subpixel_fused': _forward_subpixel_fused,
}

# ------------------------------------------------------------------------------------------------
# Gradients.
#
# From y[o] = sum_{i, t: o = s*i + pa - t} kernel[t] x[i], with flipped taps t' = k - 1 - t and the
# output gradient g padded by L = k - 1 - pa on the left (g'[q] = g[q - L]):
#
#   dx[i]      = sum_t  kernel[t] g[s*i + pa - t]  = sum_t' kernel[k-1-t'] g'[s*i + t']
#   dkernel[t] = sum_i  x[i] g[s*i + pa - t],  so dkernel[k-1-t'] = sum_i x[i] g'[s*i + t'].
#
# dx is a stride-s VALID convolution of g' with the flipped kernel (input/output channels
# swapped): the forward pass of an ordinary strided convolution. dkernel correlates g' with x
# dilated by s: the weight gradient of that same strided convolution, which XLA:CPU runs as an
# ordinary convolution (batch is the contracted "feature" dim). g' must hold (n-1)*s + k
# entries so that the strided convolution has exactly n outputs; g is zero outside [0, m)
# because those positions are padding in the forward pass, so the right pad (which may be
# negative: a crop) is (n-1)*s + k - L - m.


def _padded_cotangent(g, x_hw, kernel_hw, cfg: _Config):
  pads = []
  for n, k, s, (pa, _), m in zip(x_hw, kernel_hw, cfg.strides, cfg.pads, g.shape[1:3]):
    left = k - 1 - pa
    pads.append((left, (n - 1) * s + k - left - m))
  return _pad_spatial(g, pads)


def _input_grad_conv(g_padded, kernel, cfg: _Config):
  flipped = kernel[::-1, ::-1]  # (kh, kw, cin, cout): as a kernel from cout to cin, 'HWOI'
  return lax.conv_general_dilated(g_padded, flipped, cfg.strides, 'VALID',
                                  dimension_numbers=('NHWC', 'HWOI', 'NHWC'))


def _kernel_grad_conv(x, g_padded, cfg: _Config):
  # out[t'h, t'w, ci, co] = sum_{b, i, j} x[b, i, j, ci] g'[b, s*i + t'h, s*j + t'w, co]:
  # lhs g' with co as its "batch" and b as its "feature"; rhs x with b as input and ci as output
  # feature, dilated by the stride.
  flipped = lax.conv_general_dilated(g_padded, x, (1, 1), 'VALID', rhs_dilation=cfg.strides,
                                     dimension_numbers=('CHWN', 'IHWO', 'HWCN'))
  return flipped[::-1, ::-1]


def _backward_conv(x, kernel, g_padded, cfg: _Config):
  """Both gradients as convolutions (the input gradient a strided one)."""
  return _input_grad_conv(g_padded, kernel, cfg), _kernel_grad_conv(x, g_padded, cfg)


def _cotangent_patches(g_padded, x_hw, kernel_hw, strides):
  """im2col of g': (B*n_h*n_w, K_h*K_w*C_out) with P[(b, i, j), (t'h, t'w, co)] = g'[b, s*i + t'h,
  s*j + t'w, co], for t' < K = ceil(k/s)*s.

  Built from the stride phases of g' (t' = s*u + r reads phase r at offset u) with contiguous
  slices, which XLA fuses into one copy.
  """
  (n_h, n_w), (sh, sw) = x_hw, strides
  uh, uw = (-(-k // s) for k, s in zip(kernel_hw, strides))
  a_h, a_w = n_h + uh - 1, n_w + uw - 1
  g = _pad_spatial(g_padded, ((0, a_h * sh - g_padded.shape[1]), (0, a_w * sw - g_padded.shape[2])))
  b, c = g.shape[0], g.shape[3]
  phases = g.reshape(b, a_h, sh, a_w, sw, c)
  cols = [phases[:, i:i + n_h, :, j:j + n_w] for i in range(uh) for j in range(uw)]
  p = jnp.stack(cols, axis=1).reshape(b, uh, uw, n_h, sh, n_w, sw, c)
  p = p.transpose(0, 3, 5, 1, 4, 2, 6, 7)  # (b, i, j, uh, rh, uw, rw, c): taps t' row-major
  return p.reshape(b * n_h * n_w, uh * sh * uw * sw * c), (uh * sh, uw * sw)


def _backward_im2col(x, kernel, g_padded, cfg: _Config):
  """Both gradients as matrix products with one shared patch matrix P of g' (see above):
  dx = P @ flipped kernel and flipped dkernel = x^T @ P. Taps past k (when s does not divide k)
  get zero kernel entries for dx and are dropped from dkernel.
  """
  b, n_h, n_w, cin = x.shape
  kh, kw, _, cout = kernel.shape
  p, (big_h, big_w) = _cotangent_patches(g_padded, (n_h, n_w), (kh, kw), cfg.strides)
  flipped = jnp.pad(kernel[::-1, ::-1], ((0, big_h - kh), (0, big_w - kw), (0, 0), (0, 0)))
  w_mat = flipped.transpose(0, 1, 3, 2).reshape(big_h * big_w * cout, cin)
  dx = jnp.dot(p, w_mat).reshape(b, n_h, n_w, cin)
  dk = lax.dot_general(x.reshape(-1, cin), p, (((0,), (0,)), ((), ())))  # (cin, taps * cout)
  dk = dk.reshape(cin, big_h, big_w, cout).transpose(1, 2, 0, 3)[:kh, :kw]
  return dx, dk[::-1, ::-1]


_BACKWARDS = {'im2col': _backward_im2col, 'conv': _backward_conv}


@functools.partial(jax.custom_vjp, nondiff_argnums=(2,))
def _conv_transpose(x, kernel, cfg: _Config):
  return _FORWARDS[cfg.forward](x, kernel, cfg)


def _conv_transpose_fwd(x, kernel, cfg: _Config):
  return _conv_transpose(x, kernel, cfg), (x, kernel)


def _conv_transpose_bwd(cfg: _Config, residuals, g):
  x, kernel = residuals
  g_padded = _padded_cotangent(g, x.shape[1:3], kernel.shape[:2], cfg)
  dx, dk = _BACKWARDS[cfg.backward](x, kernel, g_padded, cfg)
  return dx.astype(x.dtype), dk.astype(kernel.dtype)


_conv_transpose.defvjp(_conv_transpose_fwd, _conv_transpose_bwd)


def conv_transpose(x, kernel, strides: Union[int, Sequence[int]] = (2, 2),
                   padding: PaddingLike = 'SAME', *, forward: str = DEFAULT_FORWARD,
                   backward: str = DEFAULT_BACKWARD):
  """Transposed 2-d convolution equal to `lax.conv_transpose(..., ('NHWC', 'HWIO', 'NHWC'))`.

  Same value as `jax.lax.conv_transpose(x, kernel, strides, padding,
  dimension_numbers=('NHWC', 'HWIO', 'NHWC'))` (flax `nn.ConvTranspose` with
  `transpose_kernel=False`, before the bias), but differentiated with a custom VJP made of
  ordinary convolutions, which XLA:CPU runs many times faster.

  Args:
    x: (batch, height, width, in_features) input.
    kernel: (kh, kw, in_features, out_features) kernel, as flax nn.ConvTranspose stores it.
    strides: int or (sh, sw); every stride must be at most the kernel size.
    padding: 'SAME', 'VALID' (lax.conv_transpose's meaning) or ((lo, hi), (lo, hi)) padding of
      the stride-dilated input.
    forward: how to compute the value: 'subpixel' (stride-1 convolutions with the sub-kernels of
      each output phase, interleaved), 'subpixel_fused' (one such convolution for all phases),
      'lhs_dilated' (lax.conv_transpose's convolution) or 'auto' (fused for < 16 output
      features, else subpixel). All give the same value.
    backward: 'im2col' (default: one patch matrix of the output gradient, two matmuls) or
      'conv' (a strided convolution and a weight-gradient convolution). Same values.

  Returns:
    (batch, out_height, out_width, out_features).

  Differentiation: reverse mode only (custom_vjp), to any order (the backward pass is itself
  made of differentiable convolutions). Forward mode (jax.jvp, jax.jacfwd) raises JAX's
  "can't apply forward-mode autodiff (jvp) to a custom_vjp function" TypeError.
  """
  if x.ndim != 4:
    raise ValueError(f'conv_transpose expects NHWC inputs; got shape {x.shape}.')
  if kernel.ndim == 4 and kernel.shape[2] != x.shape[3]:
    raise ValueError(f'kernel in_features {kernel.shape[2]} != input features {x.shape[3]} '
                     f'(kernel layout is (kh, kw, in_features, out_features)).')
  cfg = _make_config(kernel.shape, strides, padding, forward, backward)
  dtype = jnp.result_type(x, kernel)
  return _conv_transpose(x.astype(dtype), kernel.astype(dtype), cfg)


class ConvTranspose(nn.Module):
  """Drop-in for `flax.linen.ConvTranspose` (2-d, transpose_kernel=False) using `conv_transpose`.

  Parameters have the same names and shapes as flax's: 'kernel' (kh, kw, in_features, features)
  and 'bias' (features,), so checkpoints load either way. Leading batch dims are flattened like
  flax does; an input with no batch dim gets one for the call.
  """
  features: int
  kernel_size: Union[int, Sequence[int]]
  strides: Union[None, int, Sequence[int]] = None  # None means 1, as in flax
  padding: PaddingLike = 'SAME'
  use_bias: bool = True
  dtype: Any = None
  param_dtype: Any = jnp.float32
  kernel_init: Callable = nn.initializers.lecun_normal()
  bias_init: Callable = nn.initializers.zeros_init()
  forward: str = DEFAULT_FORWARD
  backward: str = DEFAULT_BACKWARD

  @nn.compact
  def __call__(self, inputs):
    """Applies the transposed convolution to (..., height, width, in_features) inputs."""
    # An int means a 1-d kernel in flax too, which this 2-d module does not support.
    kernel_size = ((self.kernel_size,) if isinstance(self.kernel_size, int)
                   else tuple(self.kernel_size))
    if len(kernel_size) != 2:
      raise ValueError(f'ConvTranspose here is 2-d only; got kernel_size {self.kernel_size!r} '
                       '(give it as (kh, kw)).')
    strides = 1 if self.strides is None else self.strides
    padding = self.padding
    if isinstance(padding, int):
      padding = ((padding, padding),) * 2
    batch_shape = inputs.shape[:-3]
    x = inputs.reshape((-1,) + inputs.shape[-3:])

    kernel = self.param('kernel', self.kernel_init, kernel_size + (x.shape[-1], self.features),
                        self.param_dtype)
    bias = (self.param('bias', self.bias_init, (self.features,), self.param_dtype)
            if self.use_bias else None)
    x, kernel, bias = dtypes.promote_dtype(x, kernel, bias, dtype=self.dtype)
    y = conv_transpose(x, kernel, strides, padding, forward=self.forward, backward=self.backward)
    if bias is not None:
      y = y + bias
    return y.reshape(batch_shape + y.shape[1:])

"""DCGAN (Radford et al. 2016, "Unsupervised representation learning with deep convolutional GANs").

Generator: project z to a start x start x width map, then stride-2 transposed convolutions
(kernel 4) with BatchNorm + ReLU, and a tanh output (no BatchNorm on the last layer).
Discriminator: stride-2 convolutions (kernel 4) with LeakyReLU(0.2), BatchNorm on every layer but
the first, then one logit; `norm='spectral'` puts spectral normalisation (Miyato et al.
2018) on every layer instead of BatchNorm, as SNGAN's discriminators do. Weights ~ N(0, 0.02).
The start size is 4 for 32/64 outputs and 7 for 28 (MNIST), so 28 -> 7-14-28, 32 -> 4-8-16-32,
64 -> 4-8-16-32-64.
"""
from typing import Any, Sequence

import flax.linen as nn
import jax.numpy as jnp

from gan_research.models import layers
from gan_research.ops import conv, conv_transpose

NORMS = ('batch', 'spectral', 'none')  # the discriminator's; the generator always has BatchNorm
_BN = dict(momentum=0.9, epsilon=1e-5)  # PyTorch's BatchNorm2d defaults (momentum 0.1 there)


def _start_size(resolution: int) -> int:
  for start in (4, 7):
    size = start
    while size < resolution:
      size *= 2
    if size == resolution:
      return start
  raise ValueError(f'DCGAN supports resolutions 4 * 2^k or 7 * 2^k (28, 32, 64, ...); got '
                   f'{resolution}. Set config.image_size to one of those.')


def _num_doublings(resolution: int) -> int:
  start, n = _start_size(resolution), 0
  while start * 2 ** n < resolution:
    n += 1
  return n


class Generator(nn.Module):
  output_shape: Sequence[int]  # (H, W, C)
  latent_dim: int = 100
  latent_distribution: str = 'normal'
  base_width: int = 64  # width of the last hidden layer; doubles towards the input (ngf)
  # layers.CONV_IMPLS: 'custom_vjp' differentiates the transposed convolutions with the
  # hand-written gradients of ops/conv_transpose.py (XLA:CPU, jaxlib 0.10.2, runs the autodiff
  # weight gradient of flax.linen.ConvTranspose, 'lax', far slower than an ordinary convolution;
  # docs/performance.md); 'auto' picks it on CPU only.
  conv_impl: str = 'auto'
  # How 'custom_vjp' differentiates: 'im2col' or 'conv' (ops/conv_transpose.py); the faster one
  # depends on config.cpu_conv_backend (docs/performance.md).
  conv_backward: str = conv_transpose.DEFAULT_BACKWARD
  dtype: Any = jnp.float32  # computation dtype (config.compute_dtype); parameters stay float32

  @nn.compact
  def __call__(self, z, *, train: bool):
    deconv = layers.transposed_conv(self.conv_impl, self.conv_backward)
    height, _, channels = self.output_shape
    start, n = _start_size(height), _num_doublings(height)
    init = layers.dcgan_init()
    bn = lambda h: nn.relu(nn.BatchNorm(use_running_average=not train, dtype=self.dtype,
                                        **_BN)(h))
    width = self.base_width * 2 ** (n - 1)
    h = nn.Dense(start * start * width, use_bias=False, kernel_init=init, dtype=self.dtype)(z)
    h = bn(h.reshape(z.shape[0], start, start, width))
    for _ in range(n - 1):
      width //= 2
      h = deconv(width, (4, 4), strides=(2, 2), padding='SAME', use_bias=False,
                 kernel_init=init, dtype=self.dtype)(h)
      h = bn(h)
    h = deconv(channels, (4, 4), strides=(2, 2), padding='SAME', kernel_init=init,
               dtype=self.dtype)(h)
    return jnp.tanh(h)


class Discriminator(nn.Module):
  base_width: int = 64  # width of the first layer; doubles with each downsampling (ndf)
  # layers.CONV_IMPLS: 'custom_vjp' gives the strided convolutions the hand-written backward of
  # ops/conv.py, 'lax' is flax.linen.Conv; 'auto' picks 'custom_vjp' on CPU only.
  conv_impl: str = 'auto'
  # How 'custom_vjp' differentiates: 'im2col' or 'conv' (ops/conv.py); the faster one depends on
  # config.cpu_conv_backend (docs/performance.md).
  conv_backward: str = conv.DEFAULT_BACKWARD
  # 'batch': BatchNorm on every layer but the first (DCGAN); 'spectral': every weight divided by
  # its largest singular value, one power iteration per training call, the vectors kept in
  # 'batch_stats' (SNGAN); 'none'.
  norm: str = 'batch'
  dtype: Any = jnp.float32  # computation dtype (config.compute_dtype); parameters stay float32

  @nn.compact
  def __call__(self, x, *, train: bool):
    layers.check_choice('norm', self.norm, NORMS)
    spectral = self.norm == 'spectral'

    def apply(layer, h):
      return nn.SpectralNorm(layer)(h, update_stats=train) if spectral else layer(h)

    strided_conv = layers.strided_conv(self.conv_impl, self.conv_backward)
    start, n = _start_size(x.shape[1]), _num_doublings(x.shape[1])
    init = layers.dcgan_init()
    h = x
    for i in range(n):
      # A bias is redundant before BatchNorm, so only the layers without one have it.
      batch_norm = i > 0 and self.norm == 'batch'
      h = apply(strided_conv(self.base_width * 2 ** i, (4, 4), strides=(2, 2),
                             padding=((1, 1), (1, 1)), use_bias=not batch_norm, kernel_init=init,
                             dtype=self.dtype), h)
      if batch_norm:
        h = nn.BatchNorm(use_running_average=not train, dtype=self.dtype, **_BN)(h)
      h = nn.leaky_relu(h, 0.2)
    # The last start x start map -> one logit: a VALID convolution over the whole map.
    h = apply(nn.Conv(1, (start, start), padding='VALID', kernel_init=init, dtype=self.dtype), h)
    return h.reshape(x.shape[0])

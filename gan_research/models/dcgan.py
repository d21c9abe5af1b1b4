"""DCGAN (Radford et al. 2016, "Unsupervised representation learning with deep convolutional GANs").

Generator: project z to a start x start x width map, then stride-2 transposed convolutions
(kernel 4) with BatchNorm + ReLU, and a tanh output (no BatchNorm on the last layer).
Discriminator: stride-2 convolutions (kernel 4) with LeakyReLU(0.2), BatchNorm on every layer but
the first, then one logit; `norm='spectral'` puts spectral normalisation (Miyato et al.
2018) on every layer instead of BatchNorm, as SNGAN's discriminators do. Weights ~ N(0, 0.02).
The start size is 4 for 32/64 outputs and 7 for 28 (MNIST), so 28 -> 7-14-28, 32 -> 4-8-16-32,
64 -> 4-8-16-32-64.

Class-conditional variants (`num_classes` > 0, a `cond` named; games.Conditional trains them)
take int labels [N] as a second argument: G(z, labels), D(x, labels). G's `cond`:
  'batchnorm'   conditional BatchNorm (de Vries et al. 2017; Miyato & Koyama 2018's G): every
                BatchNorm's scale and shift are per-class embeddings (initialised to 1 and 0).
  'concat'      a learned label embedding concatenated to z (the ACGAN / cGAN generator).
D's `cond` (phi(x): D's last feature map, flattened; psi: the unconditional D's final linear map,
the VALID convolution over that map):
  'projection'  D(x, y) = psi(phi(x)) + <embed(y), phi(x)> (Miyato & Koyama 2018, eq. 3).
  'acgan'       D(x) = psi(phi(x)) and an auxiliary classifier, class logits = W phi(x) + b
                (Odena et al. 2017).
  'concat'      the label's one-hot maps concatenated to the image channels (Mirza & Osindero
                2014's conditional GAN, convolutional).
A conditional D returns (logits [N], class logits [N, num_classes] for 'acgan', else None) and
sows phi(x) as intermediates 'features'.
"""
from typing import Any, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from gan_research.models import layers
from gan_research.ops import conv, conv_transpose

G_CONDS = ('none', 'batchnorm', 'concat')
D_CONDS = ('none', 'projection', 'acgan', 'concat')
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


def _check_conditioning(player, cond, num_classes, labels):
  """Clear errors for a conditioning choice that does not fit the labels given."""
  if cond == 'none':
    if num_classes:
      choices = list(G_CONDS if player == 'generator' else D_CONDS)[1:]
      raise ValueError(f'DCGAN {player}: num_classes={num_classes} needs a conditioning method; '
                       f'set {player}.cond to one of {choices}.')
    if labels is not None:
      raise ValueError(f'DCGAN {player} is unconditional (cond=\'none\') but was given labels.')
  else:
    if num_classes < 1:
      raise ValueError(f'DCGAN {player}.cond={cond!r} needs {player}.num_classes >= 1 (the '
                       'classes of the data).')
    if labels is None:
      raise ValueError(f'DCGAN {player}.cond={cond!r} is class-conditional: pass labels '
                       '(config.game=\'conditional\').')


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
  num_classes: int = 0  # > 0: class-conditional on labels 0 .. num_classes - 1
  cond: str = 'none'  # G_CONDS (module docstring)
  embed_dim: int = 50  # 'concat': size of the label embedding joined to z

  @nn.compact
  def __call__(self, z, labels=None, *, train: bool):
    layers.check_choice('generator.cond', self.cond, G_CONDS)
    _check_conditioning('generator', self.cond, self.num_classes, labels)
    deconv = layers.transposed_conv(self.conv_impl, self.conv_backward)
    height, _, channels = self.output_shape
    start, n = _start_size(height), _num_doublings(height)
    init = layers.dcgan_init()

    def bn(h):
      if self.cond != 'batchnorm':
        return nn.relu(nn.BatchNorm(use_running_average=not train, dtype=self.dtype, **_BN)(h))
      h = nn.BatchNorm(use_running_average=not train, use_scale=False, use_bias=False,
                       dtype=self.dtype, **_BN)(h)
      width = h.shape[-1]
      scale = nn.Embed(self.num_classes, width, embedding_init=nn.initializers.ones)(labels)
      shift = nn.Embed(self.num_classes, width, embedding_init=nn.initializers.zeros)(labels)
      return nn.relu(h * scale[:, None, None, :].astype(self.dtype)
                     + shift[:, None, None, :].astype(self.dtype))

    if self.cond == 'concat':
      embedding = nn.Embed(self.num_classes, self.embed_dim,
                           embedding_init=nn.initializers.normal(1.0))(labels)
      z = jnp.concatenate([z, embedding.astype(z.dtype)], axis=-1)
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
  num_classes: int = 0  # > 0: class-conditional on labels 0 .. num_classes - 1
  cond: str = 'none'  # D_CONDS (module docstring)

  @nn.compact
  def __call__(self, x, labels=None, *, train: bool):
    layers.check_choice('norm', self.norm, NORMS)
    layers.check_choice('discriminator.cond', self.cond, D_CONDS)
    _check_conditioning('discriminator', self.cond, self.num_classes, labels)
    spectral = self.norm == 'spectral'

    def apply(layer, h):
      return nn.SpectralNorm(layer)(h, update_stats=train) if spectral else layer(h)

    strided_conv = layers.strided_conv(self.conv_impl, self.conv_backward)
    start, n = _start_size(x.shape[1]), _num_doublings(x.shape[1])
    init = layers.dcgan_init()
    h = x
    if self.cond == 'concat':
      maps = jax.nn.one_hot(labels, self.num_classes, dtype=x.dtype)[:, None, None, :]
      h = jnp.concatenate([x, jnp.broadcast_to(maps, x.shape[:3] + maps.shape[-1:])], axis=-1)
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
    logits = apply(nn.Conv(1, (start, start), padding='VALID', kernel_init=init,
                           dtype=self.dtype), h).reshape(x.shape[0])
    if self.cond == 'none':
      return logits
    features = h.reshape(x.shape[0], -1)  # phi(x)
    self.sow('intermediates', 'features', features)
    class_logits = None
    if self.cond == 'projection':
      embedding = nn.Embed(self.num_classes, features.shape[-1], embedding_init=init)(labels)
      logits = logits + jnp.sum(embedding.astype(features.dtype) * features, axis=-1)
    elif self.cond == 'acgan':
      class_logits = apply(nn.Dense(self.num_classes, kernel_init=init, dtype=self.dtype),
                           features)
    return logits, class_logits

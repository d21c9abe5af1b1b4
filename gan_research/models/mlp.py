"""MLP generator and discriminator for 1-D and 2-D toy distributions.

The options cover the toy architectures of the mode-collapse papers: a BatchNorm generator
(`norm='batch'`) and a maxout discriminator (`maxout_pieces`; Goodfellow et al. 2013), as in the
2-D experiments of VEEGAN and PacGAN (G 4 x 400 ReLU + BatchNorm, D 3 x 200 maxout with 5 pieces,
weights N(0, 0.02^2): `init_std`).

Same contract as every architecture: `Generator()(z, train=...)` -> samples [N, *output_shape],
`Discriminator()(x, train=...)` -> logits [N].
"""
from typing import Any, Sequence

import flax.linen as nn
import jax.numpy as jnp
import numpy as np

from gan_research.models import layers

NORMS = ('batch', 'none')  # the generator's


class Generator(nn.Module):
  output_shape: Sequence[int]  # (dim,) of the data
  latent_dim: int = 2
  latent_distribution: str = 'normal'
  hidden_sizes: Sequence[int] = (128, 128, 128)
  activation: str = 'relu'
  norm: str = 'none'  # NORMS: 'batch' puts BatchNorm after every hidden layer
  init_std: float = 0.0  # > 0: weights N(0, init_std^2) instead of flax's LeCun normal
  dtype: Any = jnp.float32  # computation dtype (config.compute_dtype); parameters stay float32

  @nn.compact
  def __call__(self, z, *, train: bool):
    layers.check_choice('norm', self.norm, NORMS)
    act = layers.get_activation(self.activation)
    dense = _dense_factory(self.init_std, self.dtype)
    batch_norm = self.norm == 'batch'
    h = z
    for width in self.hidden_sizes:
      # A bias before BatchNorm is cancelled by its mean subtraction.
      h = dense(width, use_bias=not batch_norm)(h)
      if batch_norm:
        h = nn.BatchNorm(use_running_average=not train, momentum=0.9, dtype=self.dtype)(h)
      h = act(h)
    out = dense(int(np.prod(self.output_shape)))(h)
    return out.reshape((z.shape[0],) + tuple(self.output_shape))


class Discriminator(nn.Module):
  hidden_sizes: Sequence[int] = (128, 128, 128)
  activation: str = 'leaky_relu'
  minibatch_kernels: int = 0  # 0 turns minibatch discrimination off
  minibatch_kernel_dim: int = 5
  maxout_pieces: int = 0  # > 1: maxout units (max over this many linear pieces); `activation` unused
  init_std: float = 0.0  # > 0: weights N(0, init_std^2) instead of flax's LeCun normal
  dtype: Any = jnp.float32  # computation dtype (config.compute_dtype); parameters stay float32

  @nn.compact
  def __call__(self, x, *, train: bool):
    del train  # no batch statistics in the toy discriminator
    act = layers.get_activation(self.activation)
    dense = _dense_factory(self.init_std, self.dtype)
    h = x.reshape(x.shape[0], -1)
    for i, width in enumerate(self.hidden_sizes):
      if self.maxout_pieces > 1:
        h = maxout(dense(width * self.maxout_pieces)(h), self.maxout_pieces)
      else:
        h = act(dense(width)(h))
      if self.minibatch_kernels and i == len(self.hidden_sizes) - 1:
        h = layers.MinibatchDiscrimination(self.minibatch_kernels, self.minibatch_kernel_dim)(h)
    return jnp.squeeze(dense(1)(h), axis=-1)


def maxout(h, pieces):
  """Maxout (Goodfellow et al. 2013): [..., units * pieces] -> [..., units], the max over each
  unit's `pieces` consecutive linear outputs."""
  if h.shape[-1] % pieces:
    raise ValueError(f'maxout: {h.shape[-1]} features do not split into {pieces} pieces.')
  return h.reshape(h.shape[:-1] + (h.shape[-1] // pieces, pieces)).max(axis=-1)


def _dense_factory(init_std, dtype):
  init = (nn.initializers.normal(init_std) if init_std > 0
          else nn.initializers.lecun_normal())
  return lambda width, use_bias=True: nn.Dense(width, use_bias=use_bias, kernel_init=init,
                                               dtype=dtype)

"""MLP generator and discriminator for 1-D and 2-D toy distributions.

Same contract as every architecture: `Generator()(z, train=...)` -> samples [N, *output_shape],
`Discriminator()(x, train=...)` -> logits [N].
"""
from typing import Any, Sequence

import flax.linen as nn
import jax.numpy as jnp
import numpy as np

from gan_research.models import layers


class Generator(nn.Module):
  output_shape: Sequence[int]  # (dim,) of the data
  latent_dim: int = 2
  latent_distribution: str = 'normal'
  hidden_sizes: Sequence[int] = (128, 128, 128)
  activation: str = 'relu'
  batch_norm: bool = False
  dtype: Any = jnp.float32  # computation dtype (config.compute_dtype); parameters stay float32

  @nn.compact
  def __call__(self, z, *, train: bool):
    act = layers.get_activation(self.activation)
    h = z
    for width in self.hidden_sizes:
      h = nn.Dense(width, dtype=self.dtype)(h)
      if self.batch_norm:
        h = nn.BatchNorm(use_running_average=not train, momentum=0.9, dtype=self.dtype)(h)
      h = act(h)
    out = nn.Dense(int(np.prod(self.output_shape)), dtype=self.dtype)(h)
    return out.reshape((z.shape[0],) + tuple(self.output_shape))


class Discriminator(nn.Module):
  hidden_sizes: Sequence[int] = (128, 128, 128)
  activation: str = 'leaky_relu'
  minibatch_kernels: int = 0  # 0 turns minibatch discrimination off
  minibatch_kernel_dim: int = 5
  dtype: Any = jnp.float32  # computation dtype (config.compute_dtype); parameters stay float32

  @nn.compact
  def __call__(self, x, *, train: bool):
    del train  # no batch statistics in the toy discriminator
    act = layers.get_activation(self.activation)
    h = x.reshape(x.shape[0], -1)
    for i, width in enumerate(self.hidden_sizes):
      h = act(nn.Dense(width, dtype=self.dtype)(h))
      if self.minibatch_kernels and i == len(self.hidden_sizes) - 1:
        h = layers.MinibatchDiscrimination(self.minibatch_kernels, self.minibatch_kernel_dim)(h)
    return jnp.squeeze(nn.Dense(1, dtype=self.dtype)(h), axis=-1)

"""The permutation-invariant MNIST networks of the semi-supervised GAN (Salimans et al. 2016).

As in the authors' code (openai/improved-gan, mnist_svhn_cifar10/train_mnist_feature_matching.py):
- D: a K-class MLP, 784-1000-500-250-250-250-K, ReLU, every layer weight-normalised
  (Salimans & Kingma 2016) with a data-dependent initialisation, Gaussian noise of std 0.3 on
  its input and 0.5 after every hidden layer. Only the output layer trains its scale; the hidden
  layers keep the scale their initialisation measured. The real/fake logit is the log-sum-exp of
  the K class logits (objectives.class_logsumexp), so D returns the class logits [N, K] and
  sows its last hidden layer (`intermediates/features`) for G's feature matching.
- G: uniform noise of 100 dimensions, two softplus layers of 500 with batch normalisation
  (batch statistics, no scale), a weight-normalised sigmoid output layer of 784 pixels.

The authors' code feeds D pixels in [0, 1]; here images are in [-1, 1] as everywhere in the
project, so D maps them to [0, 1] first and G's sigmoid output is mapped to [-1, 1]: the noise
standard deviations keep the meaning they had.
"""
from typing import Any, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np


class WeightNormDense(nn.Module):
  """y = x (v / ||v||) * scale + bias, the norm over each output unit's incoming weights.

  `data_init`: when initialised, scale and bias are set so that each unit's output has zero
  mean and unit standard deviation over the batch given to `init` (Salimans & Kingma 2016,
  section 3); otherwise scale = 1, bias = 0. `train_scale=False` keeps the scale fixed at its
  initial value (its gradient is stopped, so Adam leaves it unchanged).
  """
  features: int
  train_scale: bool = True
  data_init: bool = True
  direction_std: float = 0.1  # the authors' theta ~ N(0, 0.1^2)
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x):
    direction = self.param('direction', nn.initializers.normal(self.direction_std),
                           (x.shape[-1], self.features))
    unit = direction / jnp.sqrt(jnp.sum(jnp.square(direction), axis=0, keepdims=True))
    y = jnp.dot(x.astype(self.dtype), unit.astype(self.dtype))
    scale_init, bias_init = nn.initializers.ones, nn.initializers.zeros
    if self.data_init and self.is_initializing():
      mean = jnp.mean(y.astype(jnp.float32), axis=0)
      std = jnp.sqrt(jnp.mean(jnp.square(y.astype(jnp.float32) - mean), axis=0))
      scale_init = lambda *_: 1.0 / std
      bias_init = lambda *_: -mean / std
    scale = self.param('scale', scale_init, (self.features,))
    bias = self.param('bias', bias_init, (self.features,))
    if not self.train_scale:
      scale = jax.lax.stop_gradient(scale)
    return y * scale.astype(self.dtype) + bias.astype(self.dtype)


def gaussian_noise(module: nn.Module, x, std: float, train: bool):
  """x + N(0, std^2) in training mode (needs a 'noise' rng), x in inference mode."""
  if not train or std == 0:
    return x
  return x + std * jax.random.normal(module.make_rng('noise'), x.shape, x.dtype)


class Discriminator(nn.Module):
  """K-class classifier: class logits [N, num_classes]; needs a 'noise' rng when train=True."""
  num_classes: int = 10
  hidden_sizes: Sequence[int] = (1000, 500, 250, 250, 250)
  input_noise_std: float = 0.3
  hidden_noise_std: float = 0.5
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x, *, train: bool):
    h = (x.reshape(x.shape[0], -1).astype(self.dtype) + 1.0) / 2.0  # [-1, 1] -> [0, 1]
    h = gaussian_noise(self, h, self.input_noise_std, train)
    for i, width in enumerate(self.hidden_sizes):
      h = nn.relu(WeightNormDense(width, train_scale=False, dtype=self.dtype)(h))
      if i == len(self.hidden_sizes) - 1:
        # Feature matching reads the last hidden layer before its noise is added.
        self.sow('intermediates', 'features', h)
      h = gaussian_noise(self, h, self.hidden_noise_std, train)
    return WeightNormDense(self.num_classes, train_scale=True, dtype=self.dtype)(h)


class Generator(nn.Module):
  """z -> images [N, *output_shape] in [-1, 1]; no state (batch norm uses batch statistics)."""
  output_shape: Sequence[int]
  latent_dim: int = 100
  latent_distribution: str = 'uniform'
  hidden_sizes: Sequence[int] = (500, 500)
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, z, *, train: bool):
    del train  # the authors' G normalises with batch statistics in training and sampling alike
    h = z.astype(self.dtype)
    for width in self.hidden_sizes:
      # No bias before the normalisation (its mean subtraction cancels it); its own bias after.
      h = nn.Dense(width, use_bias=False, dtype=self.dtype)(h)
      h = nn.softplus(BatchNormalize()(h))
    out = WeightNormDense(int(np.prod(self.output_shape)), data_init=False,
                          dtype=self.dtype)(h)
    return (2.0 * nn.sigmoid(out) - 1.0).reshape((z.shape[0],) + tuple(self.output_shape))


class BatchNormalize(nn.Module):
  """(h - mean) / std over the batch, per feature, plus a bias; no scale, no running averages
  (the authors' G; their eps of 1e-6 inside the square root)."""
  eps: float = 1e-6

  @nn.compact
  def __call__(self, h):
    bias = self.param('bias', nn.initializers.zeros, (h.shape[-1],))
    centred = h - jnp.mean(h, axis=0)
    return centred / jnp.sqrt(self.eps + jnp.mean(jnp.square(centred), axis=0)) + bias

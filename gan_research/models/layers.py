"""Layers shared by the architectures."""
import functools

import flax.linen as nn
import jax
import jax.numpy as jnp

ACTIVATIONS = {
    'linear': lambda x: x,  # e.g. StyleGAN2's image output
    'relu': nn.relu,
    'relu6': nn.relu6,
    'leaky_relu': functools.partial(nn.leaky_relu, negative_slope=0.2),
    'sigmoid': nn.sigmoid,
    'softplus': nn.softplus,
    'tanh': nn.tanh,
    'elu': nn.elu,
}


def get_activation(name: str):
  if name not in ACTIVATIONS:
    raise ValueError(f'Unknown activation {name!r}; valid activations: {sorted(ACTIVATIONS)}.')
  return ACTIVATIONS[name]


class MinibatchDiscrimination(nn.Module):
  """Minibatch discrimination (Salimans et al. 2016, section 3.2).

  M_i = f(x_i) T (num_kernels rows of kernel_dim); c_b(i, j) = exp(-||M_i,b - M_j,b||_L1);
  o(x_i)_b = sum_j c_b(i, j), including j = i as in the paper. Returns [f(x), o(x)].
  """
  num_kernels: int
  kernel_dim: int

  @nn.compact
  def __call__(self, features):
    tensor = self.param('T', nn.initializers.normal(0.1),
                        (features.shape[-1], self.num_kernels * self.kernel_dim))
    m = (features @ tensor).reshape(-1, self.num_kernels, self.kernel_dim)
    l1 = jnp.sum(jnp.abs(m[:, None] - m[None, :]), axis=-1)  # [N, N, kernels]
    o = jnp.sum(jnp.exp(-l1), axis=1)
    return jnp.concatenate([features, o], axis=-1)


def dcgan_init(stddev=0.02):
  """Radford et al. 2016: all weights from N(0, 0.02)."""
  return nn.initializers.normal(stddev)


def sample_latent(rng, shape, distribution: str, dtype=jnp.float32):
  """z ~ N(0, I) or U(-1, 1) (Radford et al. used uniform noise)."""
  if distribution == 'normal':
    return jax.random.normal(rng, shape, dtype)
  if distribution == 'uniform':
    return jax.random.uniform(rng, shape, dtype, -1.0, 1.0)
  raise ValueError(f'Unknown latent distribution {distribution!r}; valid: [\'normal\', \'uniform\'].')

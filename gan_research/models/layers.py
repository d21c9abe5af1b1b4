"""Layers and choices shared by the architectures."""
import functools

import flax.linen as nn
import jax
import jax.numpy as jnp

from gan_research.ops import conv, conv_transpose

# How a model computes its strided and transposed convolutions (config field `conv_impl`):
#   'custom_vjp'  ops/conv.py and ops/conv_transpose.py: the same functions with gradients
#                 written as ordinary convolutions (or im2col matmuls), `conv_backward` picking
#                 which; they were written for and measured on XLA:CPU, where autodiff of lax's
#                 strided convolutions runs slowly.
#   'lax'         flax.linen.Conv / ConvTranspose with autodiff gradients: what cuDNN and the
#                 TPU convolution emitter are tuned for.
#   'auto'        'custom_vjp' on the CPU backend, 'lax' on every other one.
# The two implementations compute the same function with the same parameter tree, so a checkpoint
# loads under any choice.
CONV_IMPLS = ('auto', 'custom_vjp', 'lax')

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


def check_choice(name: str, value, valid):
  """Raises ValueError naming the valid values unless `value` is one of them."""
  if value not in valid:
    raise ValueError(f'Unknown {name} {value!r}; valid: {list(valid)}.')


def resolve_conv_impl(conv_impl: str, backend=None) -> str:
  """'custom_vjp' or 'lax' for a model's `conv_impl`; 'auto' follows `backend`
  (default jax.default_backend(), read when the model is traced)."""
  check_choice('conv_impl', conv_impl, CONV_IMPLS)
  if conv_impl != 'auto':
    return conv_impl
  backend = backend or jax.default_backend()
  return 'custom_vjp' if backend == 'cpu' else 'lax'


def strided_conv(conv_impl: str, conv_backward: str = conv.DEFAULT_BACKWARD):
  """The class for strided convolutions (flax.linen.Conv's signature) under `conv_impl`."""
  if resolve_conv_impl(conv_impl) == 'custom_vjp':
    return functools.partial(conv.Conv, backward=conv_backward)
  return nn.Conv


def transposed_conv(conv_impl: str, conv_backward: str = conv_transpose.DEFAULT_BACKWARD):
  """The class for transposed convolutions (flax.linen.ConvTranspose's signature)."""
  if resolve_conv_impl(conv_impl) == 'custom_vjp':
    return functools.partial(conv_transpose.ConvTranspose, backward=conv_backward)
  return nn.ConvTranspose


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

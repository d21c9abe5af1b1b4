"""Architectures by name. Each module defines `Generator` and `Discriminator` with one contract:

  Generator(output_shape=..., dtype=..., latent_dim=..., latent_distribution=...,
            **config.generator)
      .apply(variables, z, train=...) -> samples [N, *output_shape] (images NHWC in [-1, 1])
  Discriminator(dtype=..., **config.discriminator).apply(variables, x, train=...) -> logits [N]

Class-conditional variants (dcgan: `num_classes` > 0 and a `cond` method in config.generator /
config.discriminator; games.Conditional trains them) take int labels [N] after the input:
`Generator.apply(variables, z, labels, train=...)`, and
`Discriminator.apply(variables, x, labels, train=...) -> (logits [N], class logits
[N, num_classes] or None)`, the class logits from an auxiliary classifier (ACGAN) only.

Image-to-image families (cyclegan, pix2pix) map images to images instead:
`Generator.apply(variables, x, train=...) -> [N, H, W, C]` and PatchGAN discriminators return
logits [N, H', W'], one per patch. Super-resolution (srgan) maps low-resolution images to
images `scale` times larger: `Generator(output_shape=<high-resolution shape>, ...).apply(variables,
x_low, train=...) -> [N, H, W, C]`, and its discriminator returns logits [N].

`dtype` is the computation dtype (config.compute_dtype); parameters are always float32.
"""
import importlib

import jax.numpy as jnp

from gan_research.models.layers import sample_latent  # noqa: F401  (re-exported)

MODELS = ('cyclegan', 'dcgan', 'dcgan_tf', 'mlp', 'pix2pix', 'srgan', 'ssl_mlp', 'stylegan')


def get_module(name: str):
  if name not in MODELS:
    raise ValueError(f'Unknown model {name!r}; valid models: {sorted(MODELS)}.')
  return importlib.import_module(f'gan_research.models.{name}')


def build(config, example_shape):
  """Returns (generator, discriminator) Flax modules for `config.model`."""
  module = get_module(config.model)
  dtype = jnp.dtype(config.compute_dtype)
  try:
    generator = module.Generator(output_shape=tuple(example_shape), dtype=dtype,
                                 **config.generator)
    discriminator = module.Discriminator(dtype=dtype, **config.discriminator)
  except TypeError as e:
    raise ValueError(f'config.generator / config.discriminator do not fit model '
                     f'{config.model!r}: {e}') from e
  return generator, discriminator

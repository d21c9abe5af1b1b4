"""Architectures by name. Each module defines `Generator` and `Discriminator` with one contract:

  Generator(output_shape=..., dtype=..., latent_dim=..., latent_distribution=...,
            **config.generator)
      .apply(variables, z, train=...) -> samples [N, *output_shape] (images NHWC in [-1, 1])
  Discriminator(dtype=..., **config.discriminator).apply(variables, x, train=...) -> logits [N]

Image-to-image families (cyclegan, pix2pix) map images to images instead:
`Generator.apply(variables, x, train=...) -> [N, H, W, C]` and PatchGAN discriminators return
logits [N, H', W'], one per patch.

`dtype` is the computation dtype (config.compute_dtype); parameters are always float32.
"""
import importlib

import jax.numpy as jnp

from gan_research.models.layers import sample_latent  # noqa: F401  (re-exported)

MODELS = ('cyclegan', 'dcgan', 'mlp', 'pix2pix', 'ssl_mlp', 'stylegan')


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

"""Packing (PacGAN, Lin et al. 2018): the discriminator judges m samples at once.

`Packed(discriminator, pack=m)` regroups a batch of B samples into B / m packed inputs by
concatenating m consecutive samples on the last (feature / channel) axis: vectors [B, d] become
[B / m, m * d], images [B, H, W, C] become [B / m, H, W, m * C]. Real and fake batches go through
the same wrapper, so every game and every model gets packing from `config.pack` alone; the global
batch (samples per player and step) is unchanged, D simply returns B / m logits.
"""
import flax.linen as nn
import jax.numpy as jnp


def pack_inputs(x, pack: int):
  """[B, ..., C] -> [B / pack, ..., pack * C]; samples i*pack .. i*pack+pack-1 form input i."""
  if pack == 1:
    return x
  if x.shape[0] % pack:
    raise ValueError(f'A batch of {x.shape[0]} samples cannot be packed in groups of {pack}: '
                     'make the batch size divisible by config.pack.')
  grouped = x.reshape((x.shape[0] // pack, pack) + x.shape[1:])
  # Move the group axis next to the feature axis, then merge them: [B/m, ..., m, C] -> [..., m*C]
  grouped = jnp.moveaxis(grouped, 1, -2)
  return grouped.reshape(grouped.shape[:-2] + (pack * x.shape[-1],))


class Packed(nn.Module):
  """Any discriminator, applied to packed inputs: logits [B / pack]."""
  discriminator: nn.Module
  pack: int

  @nn.compact
  def __call__(self, x, *, train: bool):
    return self.discriminator(pack_inputs(x, self.pack), train=train)


def pack_discriminator(discriminator, pack: int):
  """The discriminator itself for pack == 1, else wrapped in `Packed`."""
  if pack < 1:
    raise ValueError(f'config.pack must be >= 1; got {pack}.')
  return discriminator if pack == 1 else Packed(discriminator, pack)

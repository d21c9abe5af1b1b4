"""Device mesh and shardings: data parallel over every device of every process.

Parameters and optimiser states are replicated (P()); batches are split along the batch axis.
Batches carry a leading `d_steps` axis, so their batch axis is axis 1.
"""
import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

DATA_AXIS = 'data'


def make_mesh(devices=None) -> Mesh:
  devices = jax.devices() if devices is None else devices
  return Mesh(np.asarray(devices), (DATA_AXIS,))


def replicated(mesh: Mesh) -> NamedSharding:
  return NamedSharding(mesh, P())


def batch_sharding(mesh: Mesh) -> NamedSharding:
  """For [d_steps, batch, ...] arrays: split the batch axis over the mesh."""
  return NamedSharding(mesh, P(None, DATA_AXIS))


def shard_examples(x, mesh: Mesh):
  """Inside jit: lay out an array of examples [batch, ...] (e.g. latents) like the data."""
  return jax.lax.with_sharding_constraint(x, NamedSharding(mesh, P(DATA_AXIS)))


def check_batch_size(batch_size: int, mesh: Mesh):
  if batch_size % mesh.size or batch_size % jax.process_count():
    raise ValueError(f'config.batch_size={batch_size} must be divisible by the number of devices '
                     f'({mesh.size}) and of processes ({jax.process_count()}).')

"""Device mesh and shardings: data parallel over every device of every process.

Parameters and optimiser states are replicated (P()); batches are split along the batch axis.
Batches carry a leading `d_steps` axis, so their batch axis is axis 1. Multi-host runs start with
`initialize_distributed`, which joins the processes before the first device is touched.
"""
import os

import jax
import numpy as np
from absl import logging
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


# Environment variables that jax's SLURM cluster detection reads (jax/_src/clusters/slurm_cluster.py).
_SLURM_VARS = ('SLURM_JOB_ID', 'SLURM_STEP_NODELIST', 'SLURM_NTASKS', 'SLURM_PROCID',
               'SLURM_LOCALID')
# Set on multi-host TPU slices (GKE / queued resources): comma-separated worker addresses.
_TPU_HOST_VARS = ('TPU_WORKER_HOSTNAMES', 'TPU_PROCESS_ADDRESSES')
DISTRIBUTED_MODES = ('auto', 'on', 'off')


def _cluster_detected(environ) -> str | None:
  """The multi-process cluster jax.distributed can configure itself from, or None."""
  if all(v in environ for v in _SLURM_VARS) and int(environ['SLURM_NTASKS']) > 1:
    return 'SLURM'
  if any(',' in environ.get(v, '') for v in _TPU_HOST_VARS):
    return 'TPU pod'
  return None


def initialize_distributed(coordinator_address: str | None = None,
                           num_processes: int | None = None, process_id: int | None = None, *,
                           mode: str = 'auto', environ=None) -> bool:
  """Joins the processes of a multi-host run with `jax.distributed.initialize`, if there are any.

  Must run before anything touches a JAX device. With `coordinator_address` (host:port) the
  explicit values are used (`num_processes` and `process_id` are then required). Otherwise
  mode 'auto' lets jax detect the cluster when the environment describes one with more than one
  process (SLURM with SLURM_NTASKS > 1, a TPU slice with several workers) and does nothing on a
  single process; 'on' always lets jax detect it (Cloud TPU VMs, where only the metadata server
  knows the workers); 'off' never initializes. CPU processes talk through gloo, jax's default
  `jax_cpu_collectives_implementation`. Returns whether it initialized.
  """
  environ = os.environ if environ is None else environ
  if mode not in DISTRIBUTED_MODES:
    raise ValueError(f'Unknown distributed mode {mode!r}; valid: {list(DISTRIBUTED_MODES)}.')
  if coordinator_address:
    if num_processes is None or process_id is None:
      raise ValueError('--coordinator_address needs --num_processes and --process_id too; got '
                       f'num_processes={num_processes}, process_id={process_id}.')
    if not 0 <= process_id < num_processes:
      raise ValueError(f'--process_id={process_id} must be in [0, --num_processes='
                       f'{num_processes}).')
    if mode == 'off':
      raise ValueError('--distributed=off contradicts --coordinator_address.')
    logging.info('Joining %d processes at %s as process %d.', num_processes,
                 coordinator_address, process_id)
    jax.distributed.initialize(coordinator_address, num_processes, process_id)
    return True
  if num_processes is not None or process_id is not None:
    raise ValueError('--num_processes / --process_id need --coordinator_address (host:port of '
                     'process 0).')
  cluster = _cluster_detected(environ)
  if mode == 'off' or (mode == 'auto' and cluster is None):
    return False
  logging.info('Joining the processes of this %s (jax.distributed auto-detection).',
               cluster or 'cluster')
  jax.distributed.initialize()
  return True

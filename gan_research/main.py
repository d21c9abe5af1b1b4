"""Train a GAN: python -m gan_research.main --config=experiments/NAME.py --workdir=DIR.

Override any config field with --config.key=value (the config is locked: a mistyped key fails
with its name). A workdir with a checkpoint resumes from it.
"""
import logging as std_logging

from absl import app, flags, logging
from ml_collections import config_flags

from gan_research import parallel, train

_CONFIG = config_flags.DEFINE_config_file('config', None, 'Experiment config file.',
                                          lock_config=True)
_WORKDIR = flags.DEFINE_string('workdir', None, 'Directory for checkpoints, metrics, samples.')
# Multi-host runs (launch/): every process runs this same command with its own --process_id.
_COORDINATOR = flags.DEFINE_string('coordinator_address', None,
                                   'host:port of process 0, for a multi-process run.')
_NUM_PROCESSES = flags.DEFINE_integer('num_processes', None, 'Processes in the run.')
_PROCESS_ID = flags.DEFINE_integer('process_id', None, 'This process, in [0, num_processes).')
_DISTRIBUTED = flags.DEFINE_enum(
    'distributed', 'auto', parallel.DISTRIBUTED_MODES,
    'auto: join other processes when the flags above or the environment (SLURM, TPU pod) say '
    'there are any; on: always let jax.distributed detect the cluster (Cloud TPU VMs); off.')
flags.mark_flags_as_required(['config', 'workdir'])


class _QuietLibraries(std_logging.Filter):
  """Orbax logs every save step at INFO; keep its warnings, drop the chatter."""

  def filter(self, record):
    return record.levelno >= std_logging.WARNING or '/orbax/' not in record.pathname


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f'Unexpected arguments: {argv[1:]}')
  logging.get_absl_handler().addFilter(_QuietLibraries())
  parallel.initialize_distributed(_COORDINATOR.value, _NUM_PROCESSES.value, _PROCESS_ID.value,
                                  mode=_DISTRIBUTED.value)
  logging.info('Config:\n%s', _CONFIG.value)
  train.train_and_evaluate(_CONFIG.value, _WORKDIR.value)


if __name__ == '__main__':
  app.run(main)

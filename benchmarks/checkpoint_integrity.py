"""Wall time of a checkpoint save of the DCGAN train state, with and without checksums.

  python benchmarks/checkpoint_integrity.py [--res 64] [--repeats 7] [--data_dir DIR]

Saves the freshly initialised state of experiments/dcgan.py (64x64 by default, Radford widths,
Adam) to a temporary folder, alternating between gan_research.checkpoints.Checkpointer (Orbax
async save plus on-device checksums and the manifest) and a plain Orbax CheckpointManager with
the same options. Each save is timed from the call until the write is finished (`blocking` is
the part the train loop waits for). Prints one JSON line per save and the medians.
"""
import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
sys.path.insert(0, REPO)

import jax  # noqa: E402
import numpy as np  # noqa: E402
import orbax.checkpoint as ocp  # noqa: E402

from gan_research import checkpoints, train  # noqa: E402


class PlainOrbax:
  """The save path without checksums: what Checkpointer did before them."""

  def __init__(self, workdir):
    self.manager = ocp.CheckpointManager(
        os.path.join(workdir, 'checkpoints'),
        options=ocp.CheckpointManagerOptions(max_to_keep=None, create=True,
                                             enable_async_checkpointing=True))

  def save(self, step, state):
    self.manager.save(step, args=ocp.args.StandardSave(state))

  def wait(self):
    self.manager.wait_until_finished()

  def close(self):
    self.manager.close()


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument('--res', type=int, default=64)
  parser.add_argument('--repeats', type=int, default=7)
  parser.add_argument('--data_dir', default=os.path.join(REPO, '..', 'shared', 'data', 'mnist'))
  args = parser.parse_args()

  from experiments import dcgan
  config = dcgan.get_config(f'res={args.res}')
  config.data_dir = args.data_dir
  experiment = train.build(config)
  state = experiment.init_state(jax.random.key(0))
  nbytes = sum(x.nbytes for x in jax.tree.leaves(state))
  t = time.perf_counter()
  np.asarray(checkpoints.checksums(state))
  compile_s = time.perf_counter() - t
  t = time.perf_counter()
  np.asarray(checkpoints.checksums(state))
  print(json.dumps({'state_mb': round(nbytes / 2**20, 1), 'leaves': len(jax.tree.leaves(state)),
                    'checksum_first_call_s': round(compile_s, 3),
                    'checksum_s': round(time.perf_counter() - t, 4)}), flush=True)

  root = tempfile.mkdtemp()
  savers = {'plain': PlainOrbax(os.path.join(root, 'plain')),
            'checksums': checkpoints.Checkpointer(os.path.join(root, 'checksums'),
                                                  max_to_keep=0)}
  times = {name: [] for name in savers}
  for step in range(args.repeats + 1):  # step 0 warms both up
    for name, saver in savers.items():
      t = time.perf_counter()
      saver.save(step, state)
      blocking = time.perf_counter() - t
      saver.wait()
      total = time.perf_counter() - t
      if step:
        times[name].append(total)
        print(json.dumps({'saver': name, 'step': step, 'blocking_s': round(blocking, 4),
                          'total_s': round(total, 4)}), flush=True)
  for saver in savers.values():
    saver.close()
  shutil.rmtree(root)
  medians = {name: statistics.median(v) for name, v in times.items()}
  print(json.dumps({'median_plain_s': round(medians['plain'], 4),
                    'median_checksums_s': round(medians['checksums'], 4),
                    'overhead': f"{medians['checksums'] / medians['plain'] - 1:+.1%}"}))


if __name__ == '__main__':
  main()

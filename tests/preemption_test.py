"""SIGTERM (preemption): stop after the current step with a checkpoint; a rerun resumes exactly."""
import os
import re
import signal
import subprocess
import sys
import time

import jax
import numpy as np

from conftest import REPO
from gan_research import config_lib, preemption, train


def _start(workdir, *overrides):
  env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get('PYTHONPATH', ''))
  args = ['--config=experiments/toy_2d.py:runlocal', f'--workdir={workdir}',
          '--config.batch_size=64', '--config.generator.hidden_sizes=(32, 32)',
          '--config.discriminator.hidden_sizes=(32, 32)', '--config.log_every_steps=10',
          '--config.checkpoint_every_steps=1000000', '--config.sample_every_steps=0',
          '--config.evals.modes.every_steps=0', '--config.evals.modes.num_samples=200',
          *overrides]
  return subprocess.Popen([sys.executable, '-m', 'gan_research.main', *args], cwd=REPO, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_progress(workdir, process, timeout=120):
  metrics = os.path.join(workdir, 'metrics.jsonl')
  deadline = time.time() + timeout
  while not (os.path.exists(metrics) and os.path.getsize(metrics) > 0):
    assert process.poll() is None, process.communicate()
    assert time.time() < deadline, 'no metrics.jsonl row in time'
    time.sleep(0.2)


def test_sigterm_checkpoints_the_current_step_and_a_rerun_resumes_exactly(tmp_path):
  workdir = str(tmp_path / 'preempted')
  # Far more steps than it will get to: the run is stopped long before.
  process = _start(workdir, '--config.num_train_steps=10000000')
  try:
    _wait_for_progress(workdir, process)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
  finally:
    process.kill()
  assert process.returncode == 0, err[-3000:]
  match = re.search(r'Stopped by SIGTERM after step (\d+); saved (\S+)\. Rerun', err)
  assert match, err[-3000:]
  stopped = int(match.group(1))
  assert stopped >= 10 and os.path.isdir(os.path.join(workdir, 'checkpoints', str(stopped)))

  # The rerun (to a nearby end, so the test is short) picks up at the saved step.
  total = stopped + 15
  rerun = _start(workdir, f'--config.num_train_steps={total}')
  out, err = rerun.communicate(timeout=120)
  assert rerun.returncode == 0, err[-3000:]
  assert f'Resumed from {os.path.join(workdir, "checkpoints", str(stopped))}' in err
  _, resumed = train.restore(workdir)
  assert int(resumed.step) == total

  uninterrupted = train.train_and_evaluate(
      config_lib.load_json(os.path.join(workdir, 'config.json')), str(tmp_path / 'full'))
  for a, b in zip(jax.tree.leaves(uninterrupted), jax.tree.leaves(resumed)):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_handler_is_restored_and_one_process_stops_at_once():
  before = signal.getsignal(signal.SIGTERM)
  with preemption.StopOnSignal(check_every=10) as stop:
    assert not stop.should_stop(1)
    os.kill(os.getpid(), signal.SIGTERM)
    assert stop.should_stop(3) and stop.received == 'SIGTERM'  # not only every 10th step
  assert signal.getsignal(signal.SIGTERM) is before

"""Multi-host training: 2 CPU processes (gloo collectives) give one run, equal to 1 process,
and stop together on SIGTERM."""
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time

import jax
import numpy as np
import pytest

from conftest import REPO
from gan_research import config_lib, parallel, preemption, train
from train_test import toy_config

# Each process joins the run, trains into the shared workdir, and dumps its own copy of the
# (replicated) final state, so the test can see that both processes hold the same parameters.
CHILD = textwrap.dedent('''
    import sys, jax, numpy as np
    from gan_research import config_lib, parallel, train
    process_id, port, root = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    parallel.initialize_distributed(f'127.0.0.1:{port}', 2, process_id)
    assert jax.process_count() == 2 and jax.device_count() == 2, jax.devices()
    config = config_lib.load_json(root + '/config_in.json')
    state = train.train_and_evaluate(config, root + '/multi')
    leaves = [np.asarray(x) for x in jax.tree.leaves(state)]
    np.savez(f'{root}/process_{process_id}.npz', *leaves)
    print('done', process_id, int(state.step))
''')


def _free_port():
  with socket.socket() as s:
    s.bind(('127.0.0.1', 0))
    return s.getsockname()[1]


def _config():
  # Two D updates per step and EMA; the ring's global batch of 64 splits 32 + 32.
  c = toy_config(num_train_steps=12, d_steps=2, ema_decay=0.9)
  c.log_every_steps, c.checkpoint_every_steps, c.sample_every_steps = 6, 6, 12
  c.evals.modes = dict(every_steps=12, num_samples=500)
  return c


def test_two_processes_train_like_one(tmp_path):
  config = _config()
  (tmp_path / 'config_in.json').write_text(config.to_json())
  workdir, port = tmp_path / 'multi', _free_port()
  env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get('PYTHONPATH', ''))
  children = [subprocess.Popen([sys.executable, '-c', CHILD, str(i), str(port), str(tmp_path)],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True) for i in range(2)]
  outputs = []
  try:
    for child in children:
      outputs.append(child.communicate(timeout=120))  # a hang fails instead of blocking
  finally:
    for child in children:
      child.kill()
  for i, (child, (out, err)) in enumerate(zip(children, outputs)):
    assert child.returncode == 0, f'process {i}:\n{out}\n{err[-4000:]}'
    assert f'done {i} 12' in out

  first, second = (np.load(tmp_path / f'process_{i}.npz') for i in range(2))
  multi = [first[k] for k in first.files]
  for k in first.files:  # the processes hold bit-identical replicas
    np.testing.assert_array_equal(first[k], second[k])
  # The collective checkpoint holds the same state; process 0 alone wrote logs and samples.
  _, restored = train.restore(str(workdir))
  for a, b in zip(multi, jax.tree.leaves(restored)):
    np.testing.assert_array_equal(a, np.asarray(b))
  assert sorted(os.listdir(workdir / 'checkpoints')) == ['12', '6']
  rows = [line for line in open(workdir / 'metrics.jsonl')]
  assert len(rows) == 3, rows  # steps 6 and 12, and the modes row: written once, not twice
  assert os.listdir(workdir / 'samples') == ['step_000012.png']

  # One process with the same global batch: the same run up to float summation order.
  single = train.train_and_evaluate(config_lib.load_json(str(workdir / 'config.json')),
                                    str(tmp_path / 'single'))
  for a, b in zip(multi, jax.tree.leaves(single)):
    np.testing.assert_allclose(a, np.asarray(b), rtol=1e-5, atol=1e-6)


def _record_initialize(monkeypatch):
  calls = []
  monkeypatch.setattr(jax.distributed, 'initialize', lambda *args: calls.append(args))
  return calls


def test_initialize_distributed_only_when_asked(monkeypatch):
  calls = _record_initialize(monkeypatch)
  slurm = dict(SLURM_JOB_ID='7', SLURM_STEP_NODELIST='gpu[1-2]', SLURM_PROCID='1',
               SLURM_LOCALID='0')
  assert not parallel.initialize_distributed(environ={})  # a laptop: nothing to join
  assert not parallel.initialize_distributed(environ=dict(slurm, SLURM_NTASKS='1'))
  assert not parallel.initialize_distributed(environ=dict(slurm, SLURM_NTASKS='2'), mode='off')
  assert calls == []
  assert parallel.initialize_distributed(environ=dict(slurm, SLURM_NTASKS='2'))
  assert parallel.initialize_distributed(environ={'TPU_WORKER_HOSTNAMES': 'w0,w1'})
  assert parallel.initialize_distributed(environ={}, mode='on')
  assert parallel.initialize_distributed('10.0.0.1:1234', 4, 3, environ={})
  assert calls == [(), (), (), ('10.0.0.1:1234', 4, 3)]


@pytest.mark.parametrize('args,message', [
    (('10.0.0.1:1234', None, 0), 'needs --num_processes and --process_id'),
    (('10.0.0.1:1234', 2, 2), r'--process_id=2 must be in \[0, --num_processes=2\)'),
    ((None, 2, 0), 'need --coordinator_address'),
])
def test_initialize_distributed_rejects_partial_flags(monkeypatch, args, message):
  calls = _record_initialize(monkeypatch)
  with pytest.raises(ValueError, match=message):
    parallel.initialize_distributed(*args, environ={})
  assert calls == []


def test_sigterm_to_one_process_stops_both_at_the_same_step(tmp_path):
  # Through the command line (the launchers' --coordinator_address flags); only process 1 is
  # signalled, as when a scheduler reaches one host first.
  env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get('PYTHONPATH', ''))
  port, workdir = _free_port(), tmp_path / 'run'
  args = ['--config=experiments/toy_2d.py:runlocal', f'--workdir={workdir}',
          '--config.batch_size=64', '--config.num_train_steps=10000000',
          '--config.log_every_steps=10', '--config.checkpoint_every_steps=1000000',
          '--config.sample_every_steps=0', f'--coordinator_address=127.0.0.1:{port}',
          '--num_processes=2']
  children = [subprocess.Popen([sys.executable, '-m', 'gan_research.main', *args,
                                f'--process_id={i}'], cwd=REPO, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True) for i in range(2)]
  outputs = []
  try:
    deadline = time.time() + 120
    while not (workdir / 'metrics.jsonl').exists():
      assert all(c.poll() is None for c in children), [c.communicate() for c in children]
      assert time.time() < deadline, 'no progress in time'
      time.sleep(0.2)
    children[1].send_signal(signal.SIGTERM)
    for child in children:
      outputs.append(child.communicate(timeout=60)[1])
  finally:
    for child in children:
      child.kill()
  steps = []
  for child, who, err in zip(children, ('another process', 'SIGTERM'), outputs):
    assert child.returncode == 0, err[-3000:]
    match = re.search(rf'Stopped by {who} after step (\d+); saved', err)
    assert match, err[-3000:]
    steps.append(int(match.group(1)))
  assert steps[0] == steps[1] and steps[0] % preemption.CHECK_EVERY_STEPS == 0, steps
  assert os.path.isdir(workdir / 'checkpoints' / str(steps[0]))

"""Fault injection: damaged, truncated and unfinished checkpoints, a disk refusing writes, NaNs.

Each test breaks one thing the way it breaks in practice and checks that the run notices, says
where, and carries on from (or names) a checkpoint that really is good.
"""
import json
import logging
import os
import shutil
import subprocess
import sys
import textwrap

import jax
import numpy as np
import pytest
from PIL import Image

from conftest import REPO
from gan_research import checkpoints, config_lib, data, train, writers
from gan_research.data import translation
from train_test import toy_config

TESTS = os.path.dirname(os.path.abspath(__file__))


def _config(steps, **overrides):
  settings = dict(log_every_steps=5, checkpoint_every_steps=5, sample_every_steps=0)
  return toy_config(num_train_steps=steps, **{**settings, **overrides})


def _leaves(state):
  return [np.asarray(x) for x in jax.tree.leaves(state)]


def _files(folder):
  return [os.path.join(root, f) for root, _, names in os.walk(folder) for f in names]


def _overwrite_middle(folder, nbytes=5000, seed=0):
  """Overwrites nbytes in the middle of the largest file under folder (a bad disk sector)."""
  path = max(_files(folder), key=os.path.getsize)
  content = bytearray(open(path, 'rb').read())
  n = min(nbytes, len(content) // 2)
  start = (len(content) - n) // 2
  content[start:start + n] = np.random.default_rng(seed).integers(0, 256, n, np.uint8).tobytes()
  with open(path, 'wb') as f:
    f.write(content)


def _steps_logged(workdir):
  return [row['step'] for row in writers.read_metrics(workdir) if 'loss/d' in row]


def _run_python(code, timeout=300):
  env = dict(os.environ, PYTHONPATH=os.pathsep.join([REPO, TESTS, os.environ.get('PYTHONPATH',
                                                                                   '')]))
  return subprocess.run([sys.executable, '-c', textwrap.dedent(code)], cwd=REPO, env=env,
                        capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope='module')
def trained_to_10(tmp_path_factory):
  """A toy workdir with checkpoints 5 and 10; tests copy it."""
  workdir = str(tmp_path_factory.mktemp('trained') / 'run')
  train.train_and_evaluate(_config(10), workdir)
  return workdir


def _copy(source, destination):
  shutil.copytree(source, destination)
  return str(destination)


def test_damaged_newest_checkpoint_resumes_from_previous_bit_identically(trained_to_10,
                                                                         tmp_path, caplog):
  damaged = _copy(trained_to_10, tmp_path / 'damaged')
  direct = _copy(trained_to_10, tmp_path / 'direct')
  _overwrite_middle(os.path.join(damaged, 'checkpoints', '10'))
  shutil.rmtree(os.path.join(direct, 'checkpoints', '10'))  # resumes from 5 by construction

  with caplog.at_level(logging.INFO):
    resumed = train.train_and_evaluate(_config(15), damaged)
  log = caplog.text
  assert f'Checkpoint 10 at {os.path.join(damaged, "checkpoints", "10")} is unusable' in log
  assert f'Resumed from {os.path.join(damaged, "checkpoints", "5")}' in log
  reference = train.train_and_evaluate(_config(15), direct)
  assert int(resumed.step) == 15
  for a, b in zip(_leaves(reference), _leaves(resumed)):
    np.testing.assert_array_equal(a, b)
  # The damaged folder is kept aside for inspection; step 10 was written again, and verifies.
  assert os.listdir(os.path.join(damaged, 'checkpoints_rejected')) == ['10']
  ckpt = checkpoints.Checkpointer(damaged)
  assert ckpt.check(10, resumed)[1] is None
  ckpt.close()
  # metrics.jsonl holds each step once, with the values of the run that resumed.
  assert _steps_logged(damaged) == [5, 10, 15]
  strip = lambda rows: [{k: v for k, v in r.items() if k != 'steps_per_sec'} for r in rows]
  assert strip(writers.read_metrics(damaged)) == strip(writers.read_metrics(direct))


def test_truncated_checkpoint_folder_is_skipped(trained_to_10, tmp_path, caplog):
  workdir = _copy(trained_to_10, tmp_path / 'run')
  for path in _files(os.path.join(workdir, 'checkpoints', '10', 'default')):
    with open(path, 'r+b') as f:  # a copy cut short: every file keeps its first half
      f.truncate(os.path.getsize(path) // 2)
  with caplog.at_level(logging.INFO):
    state = train.train_and_evaluate(_config(15), workdir)
  assert 'Checkpoint 10 at' in caplog.text and 'is unusable' in caplog.text
  assert f'Resumed from {os.path.join(workdir, "checkpoints", "5")}' in caplog.text
  assert int(state.step) == 15


def test_no_checkpoint_verifies_stops_and_moves_nothing(trained_to_10, tmp_path):
  workdir = _copy(trained_to_10, tmp_path / 'run')
  for step in ('5', '10'):
    _overwrite_middle(os.path.join(workdir, 'checkpoints', step))
  before = sorted(_files(workdir))
  with pytest.raises(checkpoints.NoUsableCheckpointError,
                     match=r'(?s)step 10 .*step 5 .*Nothing was moved or deleted'):
    train.train_and_evaluate(_config(15), workdir)
  assert sorted(_files(workdir)) == before


def test_sigkill_during_async_save_resumes_from_last_complete_checkpoint(trained_to_10,
                                                                         tmp_path, caplog):
  workdir = str(tmp_path / 'killed')
  # The process dies inside the save of step 10: after Orbax has written every array, before
  # the manifest and the rename that make the checkpoint complete.
  result = _run_python(f'''
      import os, signal
      from gan_research import checkpoints, train
      from faults_test import _config
      write_manifest = checkpoints.Checkpointer._write_manifest

      def killed_at_10(self, step=None):
        if min(self._pending) == 10:
          os.kill(os.getpid(), signal.SIGKILL)
        return write_manifest(self, step)

      checkpoints.Checkpointer._write_manifest = killed_at_10
      train.train_and_evaluate(_config(15), {workdir!r})
      ''')
  assert result.returncode == -9, result.stderr[-3000:]
  # Orbax left its temporary folder, not a step folder; either way no manifest says complete.
  assert not os.path.exists(os.path.join(workdir, 'checkpoints', '10', checkpoints.MANIFEST))
  # The loop runs on while the save is written: rows past step 5 may be in metrics.jsonl.
  assert _steps_logged(workdir)[:2] == [5, 10]

  with caplog.at_level(logging.INFO):
    state = train.train_and_evaluate(_config(15), workdir)
  assert f'Resumed from {os.path.join(workdir, "checkpoints", "5")}' in caplog.text
  assert int(state.step) == 15
  assert _steps_logged(workdir) == [5, 10, 15]  # the killed run's rows are not kept twice
  reference = train.train_and_evaluate(_config(15), _copy(trained_to_10, tmp_path / 'clean'))
  for a, b in zip(_leaves(reference), _leaves(state)):
    np.testing.assert_array_equal(a, b)


def test_step_folder_without_manifest_is_taken_for_unfinished(trained_to_10, tmp_path, caplog):
  # What a killed save leaves where renames are not atomic (or a copy that stopped short): the
  # arrays may all be there, the manifest written last is not.
  workdir = _copy(trained_to_10, tmp_path / 'run')
  os.remove(os.path.join(workdir, 'checkpoints', '10', checkpoints.MANIFEST))
  with caplog.at_level(logging.INFO):
    state = train.train_and_evaluate(_config(15), workdir)
  assert 'has no integrity.json: the save did not complete' in caplog.text
  assert f'Resumed from {os.path.join(workdir, "checkpoints", "5")}' in caplog.text
  assert int(state.step) == 15


def test_disk_refusing_writes_fails_clearly_and_keeps_older_checkpoints(trained_to_10, tmp_path):
  workdir = _copy(trained_to_10, tmp_path / 'run')
  # The process may not grow any file past 16 KiB (RLIMIT_FSIZE): the next checkpoint's data
  # file is refused as on a full disk, while the small metric files still fit. Works as root,
  # where a read-only folder would not stop the write.
  result = _run_python(f'''
      import resource, signal
      signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a refused write raises instead of killing
      resource.setrlimit(resource.RLIMIT_FSIZE, (16384, 16384))
      from gan_research import train
      from faults_test import _config
      train.train_and_evaluate(_config(20, keep_checkpoints=2), {workdir!r})
      ''')
  assert result.returncode == 1, result.stderr[-3000:]
  assert 'CheckpointSaveError: Could not write the checkpoint of step 15' in result.stderr, (
      result.stderr[-3000:])
  assert 'The older checkpoints [5, 10] are untouched' in result.stderr
  experiment = train.build(_config(20))
  ckpt = checkpoints.Checkpointer(workdir)
  assert sorted(ckpt.manager.all_steps()) == [5, 10]
  for step in (5, 10):
    assert ckpt.check(step, experiment.abstract_state())[1] is None
  ckpt.close()
  state = train.train_and_evaluate(_config(20, keep_checkpoints=2), workdir)  # space is back
  assert int(state.step) == 20


def test_nan_names_its_step_and_a_checkpoint_that_verifies(trained_to_10, tmp_path, monkeypatch):
  workdir = _copy(trained_to_10, tmp_path / 'run')
  _overwrite_middle(os.path.join(workdir, 'checkpoints', '10'))  # the newest folder is damaged
  real_get_source = data.get_source

  def poisoned(config, split='train', **kw):
    source = real_get_source(config, split, **kw)
    get_batch = source.get_batch
    source.get_batch = lambda step, **kw: (
        {'x': get_batch(step, **kw)['x'] * np.nan} if step == 7 else get_batch(step, **kw))
    return source  # NaN data from step index 7, i.e. step 8

  monkeypatch.setattr(data, 'get_source', poisoned)
  with pytest.raises(FloatingPointError, match=r'at step 8.*last good checkpoint is step 5 at'):
    train.train_and_evaluate(_config(15, log_every_steps=1), workdir)
  ckpt = checkpoints.Checkpointer(workdir)
  assert ckpt.check(5, train.build(_config(15)).abstract_state())[1] is None
  ckpt.close()


def test_issue_scenario_damaged_checkpoint_40_resumes_from_20_on_the_command_line(tmp_path):
  workdir = str(tmp_path / 'toy')
  command = [sys.executable, '-m', 'gan_research.main', '--config=experiments/toy_2d.py',
             f'--workdir={workdir}', '--config.checkpoint_every_steps=20',
             '--config.log_every_steps=20', '--config.sample_every_steps=0',
             '--config.evals.modes.every_steps=0', '--config.evals.modes.num_samples=500']
  first = subprocess.run(command + ['--config.num_train_steps=40'], cwd=REPO,
                         capture_output=True, text=True, timeout=300)
  assert first.returncode == 0, first.stderr[-3000:]
  _overwrite_middle(os.path.join(workdir, 'checkpoints', '40'))
  rerun = subprocess.run(command + ['--config.num_train_steps=60'], cwd=REPO,
                         capture_output=True, text=True, timeout=300)
  assert rerun.returncode == 0, rerun.stderr[-3000:]
  path = lambda step: os.path.join(workdir, 'checkpoints', str(step))
  assert f'Checkpoint 40 at {path(40)} is unusable' in rerun.stderr, rerun.stderr[-3000:]
  assert f'Resumed from {path(20)}' in rerun.stderr
  rows = [r for r in writers.read_metrics(workdir) if 'loss/d' in r]
  assert [r['step'] for r in rows] == [20, 40, 60]
  assert all(np.isfinite(r['loss/d']) and np.isfinite(r['loss/g']) for r in rows)


def test_metrics_rows_past_the_restart_step_and_a_torn_line_are_dropped(tmp_path):
  path = tmp_path / 'metrics.jsonl'
  path.write_text(''.join(json.dumps({'step': s, 'loss/d': 1.0}) + '\n' for s in (5, 10, 15))
                  + '{"step": 20, "lo')
  writers.drop_rows_after(str(path), 10)
  assert [r['step'] for r in writers.read_metrics(str(tmp_path))] == [5, 10]


def test_corrupt_paired_image_is_named(tmp_path):
  folder = tmp_path / 'train'
  folder.mkdir()
  Image.fromarray(np.zeros((8, 16, 3), np.uint8)).save(folder / 'ok.png')
  (folder / 'broken.jpg').write_bytes(b'not a jpeg')
  with pytest.raises(ValueError, match=r'paired_folder: cannot read image .*broken\.jpg'):
    translation.load_paired_folder(str(tmp_path), 'train', 8)


@pytest.mark.parametrize('penalty', ['r1', 'gradient_penalty'])
def test_penalties_refuse_discriminators_that_mix_examples(penalty):
  def config(model, **discriminator):
    c = config_lib.base_config()
    c.model, c.penalty, c.penalty_weight = model, penalty, 1.0
    c.discriminator = discriminator
    return c

  with pytest.raises(ValueError, match='BatchNorm'):
    config_lib.validate(config('dcgan', norm='batch'))
  config_lib.validate(config('dcgan', norm='spectral'))
  with pytest.raises(ValueError, match='BatchNorm'):
    config_lib.validate(config('dcgan', base_width=4))  # BatchNorm is the DCGAN default
  with pytest.raises(ValueError, match='minibatch discrimination'):
    config_lib.validate(config('mlp', minibatch_kernels=5))
  config_lib.validate(config('mlp', minibatch_kernels=0))

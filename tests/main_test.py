"""The command line: locked configs, experiment files, the figures entry."""
import glob
import importlib.util
import keyword
import os
import re
import subprocess
import sys

import pytest

from conftest import REPO
from gan_research import data, figures, models


def _python(*args, cwd=REPO):
  env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get('PYTHONPATH', ''))
  return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True,
                        timeout=600)


def _experiments():
  return sorted(glob.glob(os.path.join(REPO, 'experiments', '*.py')))


def _load(path):
  spec = importlib.util.spec_from_file_location(os.path.basename(path)[:-3], path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def test_mistyped_override_fails_naming_the_key(tmp_path):
  result = _python('-m', 'gan_research.main', '--config=experiments/toy_2d.py',
                   f'--workdir={tmp_path}', '--config.num_train_step=5')
  assert result.returncode != 0
  assert 'num_train_step' in result.stderr
  assert not os.path.exists(tmp_path / 'checkpoints')


@pytest.mark.parametrize('path', _experiments(), ids=os.path.basename)
def test_experiment_files_document_and_build(path):
  module = _load(path)
  doc = module.__doc__ or ''
  # Each section starts a line: 'Command:' or 'Commands (...):', 'Time:', 'Expected ...:'.
  for section in ('Command', 'Time', 'Expected'):
    assert re.search(rf'^{section}', doc, re.M), f'{path} docstring lacks a {section!r} line'
  assert 'python -m gan_research.main' in doc
  config = module.get_config('runlocal')
  for field in ('seed', 'model', 'objective', 'dataset', 'data_dir', 'image_size', 'batch_size',
                'num_train_steps', 'd_steps', 'log_every_steps', 'checkpoint_every_steps',
                'sample_every_steps', 'generator', 'discriminator', 'optimizer_g',
                'optimizer_d', 'evals'):
    assert field in config, field
  for name in config.evals:  # --config.evals.NAME.every_steps=... must parse
    assert name.isidentifier() and not keyword.iskeyword(name), name
  shape = (2,) if config.dataset in data.SYNTHETIC else (config.image_size,) * 2 + (1,)
  models.build(config, shape)
  with pytest.raises(ValueError, match='valid arguments'):
    module.get_config('no_such_argument=1')


def test_toy_run_and_figures_from_the_command_line(tmp_path):
  run = _python('-m', 'gan_research.main', '--config=experiments/toy_2d.py:runlocal',
                f'--workdir={tmp_path}', '--config.num_train_steps=20',
                '--config.log_every_steps=10', '--config.evals.modes.num_samples=500')
  assert run.returncode == 0, run.stderr[-3000:]
  assert 'step 20/20 (100%)' in run.stderr  # the progress line (absl logging, on stderr)
  assert '[20] modes/captured=' in run.stdout  # the evaluator's row, printed
  # The figures command line once; the other figures and its errors in this process (the same
  # code behind the command, without another interpreter start and JAX import each).
  fig = _python('-m', 'gan_research.figures', 'samples', f'--workdir={tmp_path}')
  assert fig.returncode == 0, fig.stderr[-3000:]
  assert f'Wrote {tmp_path / "figures" / "samples.png"}' in fig.stdout
  assert figures.get_figure('scatter2d').run(str(tmp_path)) == str(
      tmp_path / 'figures' / 'scatter2d.png')
  for name in ('samples', 'scatter2d'):
    assert os.path.getsize(tmp_path / 'figures' / f'{name}.png') > 1000
  with pytest.raises(ValueError, match=re.escape("valid figures: [")) as error:
    figures.get_figure('nope')
  assert "'samples', 'scatter2d'" in str(error.value)
  # A workdir with a config but no checkpoint: the error says to train first.
  os.makedirs(tmp_path / 'fresh')
  os.rename(tmp_path / 'config.json', tmp_path / 'fresh' / 'config.json')
  with pytest.raises(FileNotFoundError, match='No checkpoint'):
    figures.get_figure('samples').run(str(tmp_path / 'fresh'))


def test_figures_without_a_run_say_what_is_missing(tmp_path):
  with pytest.raises(FileNotFoundError, match='config.json not found'):
    figures.get_figure('samples').run(str(tmp_path))

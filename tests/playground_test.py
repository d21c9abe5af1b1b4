"""The playground: its JSON API against the trainer's and the figures' own numbers, concurrent
runs, bad requests, saved workdirs; and the page itself in headless Chromium."""
import json
import os
import time
import urllib.error
import urllib.request

import jax
import numpy as np
import pytest

from gan_research import config_lib, train
from gan_research.figures import optimal_d, samples as samples_figure, toy1d
from gan_research.playground import browser, runs as runs_lib, settings as settings_lib

from conftest import REPO


@pytest.fixture(scope='module')
def server(tmp_path_factory):
  with browser.serving(str(tmp_path_factory.mktemp('saved'))) as (url, httpd):
    yield url, httpd.RequestHandlerClass.playground


def _call(url, path, body=None):
  """(HTTP status, JSON answer) of GET (body None) or POST."""
  data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
  request = urllib.request.Request(url + path.lstrip('/'), data=data,
                                   method='GET' if body is None else 'POST')
  try:
    with urllib.request.urlopen(request, timeout=60) as response:
      return response.status, json.loads(response.read())
  except urllib.error.HTTPError as e:
    return e.code, json.loads(e.read())


def _run(url, settings, timeout=300):
  code, answer = _call(url, '/api/runs', settings)
  assert code == 200, answer
  return _wait(url, answer['id'], timeout)


def _wait(url, run_id, timeout=300):
  deadline = time.time() + timeout
  while time.time() < deadline:
    view = _call(url, f'/api/runs/{run_id}')[1]
    if view['status'] not in ('starting', 'running'):
      assert view['status'] != 'error', view['error']
      return view
    time.sleep(0.05)
  raise TimeoutError(f'run {run_id} still training after {timeout} s')


@pytest.mark.parametrize('settings, message', [
    ({'activation': 'swish'}, "Unknown activation 'swish'; valid: ['elu'"),
    ({'steps': 0}, 'steps must be in [1, 10001]; got 0'),
    ({'steps': 10002}, 'steps must be in [1, 10001]; got 10002'),
    ({'lr_g': 0}, 'lr_g must be a finite number in (0, 1.0]; got 0'),
    ({'lr_d': 'NaN'}, "lr_d must be a finite number in (0, 1.0]; got 'NaN'"),
    ({'pack': 3}, 'batch_size=128 must be divisible by config.pack=3'),
    ({'data': 'ring9'}, "Unknown data 'ring9'; valid: ['unimodal', 'bimodal'"),
    ({'learning_rate': 0.1}, "Unknown setting 'learning_rate'"),
    (b'{not json', 'The request body is not JSON'),
])
def test_a_bad_request_gets_a_message_and_the_server_keeps_serving(server, settings, message):
  url, _ = server
  code, answer = _call(url, '/api/runs', settings)
  assert code == 400 and message in answer['error'], answer
  assert _call(url, '/api/options')[0] == 200
  assert _call(url, '/api/runs/nosuchrun')[0] == 404


def test_the_page_gives_figures_toy1d_numbers(server, tmp_path):
  """Same settings and seed: the page's runs are toy1d's grid column (its samples, the KDE drawn
  from them and the modes covered), though toy1d trains three mixtures in one vmapped call."""
  url, _ = server
  steps = 100
  toy1d.run(str(tmp_path), num_steps=steps, activations='tanh')
  grid = np.load(tmp_path / 'toy1d_samples.npz')
  with open(tmp_path / 'toy1d.csv') as f:
    covered = {int(r.split(',')[0]): int(r.split(',')[2]) for r in f.read().split()[1:]}
  for k, data in zip(toy1d.NUM_MODES, ('unimodal', 'bimodal', 'trimodal')):
    view = _run(url, {'data': data, 'activation': 'tanh', 'steps': steps, 'seed': 0})
    assert view['result']['modes_covered'] == covered[k]
    p_g = optimal_d.gaussian_kde(grid[f'{k}/tanh'], runs_lib.GRID_1D)
    np.testing.assert_allclose(view['snapshot']['p_g'], p_g, atol=2e-5)


def test_runs_from_two_tabs_are_independent_and_compile_nothing_new(server):
  """Two concurrent runs (seeds 1, 2) end as each ends alone; changing only the seed and the
  step count reuses the compiled functions."""
  url, playground = server
  _run(url, {'data': 'bimodal', 'activation': 'tanh', 'steps': 20, 'seed': 9})  # compiles
  compiles = playground.trainers.num_compiles
  ids = [_call(url, '/api/runs', {'data': 'bimodal', 'activation': 'tanh', 'steps': 400,
                                  'seed': seed})[1]['id'] for seed in (1, 2)]
  together = [_wait(url, i) for i in ids]
  alone = _run(url, {'data': 'bimodal', 'activation': 'tanh', 'steps': 400, 'seed': 1})
  # Another data of the same dimension is an input of the same compiled functions too.
  _run(url, {'data': 'trimodal', 'activation': 'tanh', 'steps': 33, 'seed': 3})
  assert playground.trainers.num_compiles == compiles
  assert together[0]['snapshot']['p_g'] == alone['snapshot']['p_g']
  assert together[0]['losses'][-1] == alone['losses'][-1]
  assert not np.allclose(together[1]['snapshot']['p_g'], alone['snapshot']['p_g'], atol=1e-3)


def test_stop_ends_a_run_early_and_keeps_its_last_state(server):
  url, _ = server
  _, answer = _call(url, '/api/runs', {'data': 'trimodal', 'activation': 'tanh',
                                       'steps': settings_lib.MAX_STEPS, 'seed': 5})
  deadline = time.time() + 300
  while _call(url, f"/api/runs/{answer['id']}")[1]['step'] == 0 and time.time() < deadline:
    time.sleep(0.05)
  assert _call(url, f"/api/runs/{answer['id']}/stop", {})[0] == 200
  view = _wait(url, answer['id'])
  assert view['status'] == 'stopped' and 0 < view['step'] < settings_lib.MAX_STEPS
  assert view['result']['step'] == view['snapshot']['step'] == view['losses'][-1][0] == view['step']
  assert view['result']['num_modes'] == 3


def test_a_saved_run_is_a_workdir_the_trainer_reproduces_and_the_figures_read(server, tmp_path):
  url, _ = server
  settings = {'data': 'bimodal', 'activation': 'tanh', 'steps': 60, 'seed': 4, 'lr_g': 0.002}
  view = _run(url, settings)
  code, saved = _call(url, f"/api/runs/{view['id']}/save", {'name': 'mine'})
  assert code == 200, saved
  workdir = saved['workdir']
  assert _call(url, f"/api/runs/{view['id']}/save", {'name': 'mine'})[0] == 400  # taken
  assert _call(url, f"/api/runs/{view['id']}/save", {'name': '../up'})[0] == 400
  with open(os.path.join(workdir, 'metrics.jsonl')) as f:
    rows = [json.loads(line) for line in f]
  assert [r['step'] for r in rows] == [r[0] for r in view['losses']]
  # The printed command's config is the workdir's config.json.
  arg = saved['command'].split('experiments/playground.py:')[1].split()[0]
  config = config_lib.load_json(os.path.join(workdir, 'config.json'))
  assert settings_lib.config_for(settings_lib.from_arg(arg)).to_dict() == config.to_dict()
  # The trainer's own loop (what `python -m gan_research.main` runs) retrains the same state.
  again = train.train_and_evaluate(config, str(tmp_path / 'again'))
  _, restored = train.restore(workdir)
  for a, b in zip(jax.tree.leaves(restored), jax.tree.leaves(again)):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-5)
  assert os.path.exists(samples_figure.run(workdir))


def test_experiment_file_builds_the_pages_config():
  import importlib.util  # pylint: disable=import-outside-toplevel
  spec = importlib.util.spec_from_file_location(
      'playground', os.path.join(REPO, 'experiments', 'playground.py'))
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  config = module.get_config('data=ring8,activation=elu,pack=4,unroll_steps=2,steps=77')
  assert (config.dataset, config.generator.activation, config.pack, config.unroll_steps,
          config.num_train_steps) == ('ring8', 'elu', 4, 2, 77)
  assert config.optimizer_d.eps_root > 0  # unrolling differentiates through Adam
  with pytest.raises(ValueError, match='unroll_steps must be in'):
    module.get_config('unroll_steps=11')


def test_in_headless_chromium_bimodal_tanh_covers_both_modes(server):
  reason = browser.missing()
  if reason:
    pytest.skip(f'NO BROWSER TEST: {reason} (.ci/run installs them)')
  url, _ = server
  with browser.chromium() as driver:
    browser.open_page(driver, url)
    bad = browser.run_in_page(driver, {'lr_g': 'nan'})
    assert "lr_g must be a finite number in (0, 1.0]; got 'nan'" in bad['error']
    out = browser.run_in_page(driver, {'data': 'bimodal', 'activation': 'tanh', 'steps': 2000,
                                       'lr_g': '0.001'})
  assert out['error'] == '' and out['status'] == 'done', out
  assert (out['covered'], out['modes']) == ('2', '2'), out
  assert out['result'].startswith('Modes covered: 2 of 2')

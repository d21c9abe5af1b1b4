"""config_lib: old workdirs' config.json in today's names, experiment files' overrides."""
import json
import logging
import os

import pytest
from absl import flags
from ml_collections import config_flags

from conftest import REPO
from gan_research import config_lib, models


def _write(tmp_path, raw):
  path = tmp_path / 'config.json'
  path.write_text(json.dumps(raw))
  return str(path)


def _deprecations(caplog):
  return [r.getMessage() for r in caplog.records
          if r.levelno == logging.WARNING and 'deprecated' in r.getMessage()]


def _old_dcgan_run():
  """A DCGAN config.json as runs wrote it before the renames and before the newer fields."""
  raw = json.loads(config_lib.base_config().to_json())
  for newer in ('compute_dtype', 'cpu_conv_backend', 'pack', 'unroll_steps', 'g_penalty_every',
                'keep_checkpoints', 'game_kw', 'd_weight_clip'):
    del raw[newer]
  del raw['optimizer_g']['eps_root'], raw['optimizer_g']['warmup_steps']
  raw.update(model='dcgan', dataset='mnist', image_size=28, batch_size=16)
  raw['generator'] = {'base_width': 8, 'transpose_impl': 'fast', 'transpose_backward': 'conv'}
  raw['discriminator'] = {'base_width': 8, 'conv_impl': 'fast', 'normalization': 'spectral'}
  return raw


def test_old_config_json_loads_in_new_names_with_the_newer_fields_defaulted(tmp_path, caplog):
  caplog.set_level(logging.WARNING)
  config = config_lib.load_json(_write(tmp_path, _old_dcgan_run()))
  assert config.generator.to_dict() == {'base_width': 8, 'conv_impl': 'custom_vjp',
                                        'conv_backward': 'conv'}
  assert config.discriminator.to_dict() == {'base_width': 8, 'conv_impl': 'custom_vjp',
                                            'norm': 'spectral'}
  base = config_lib.base_config()
  for newer in ('compute_dtype', 'cpu_conv_backend', 'pack', 'unroll_steps', 'g_penalty_every',
                'keep_checkpoints', 'd_weight_clip'):
    assert config[newer] == base[newer], newer
  assert config.game_kw.to_dict() == {}
  assert (config.optimizer_g.eps_root, config.optimizer_g.warmup_steps) == (0.0, 0)
  assert (config.model, config.image_size, config.batch_size) == ('dcgan', 28, 16)  # the run's
  # One warning per renamed field, naming it.
  warnings = _deprecations(caplog)
  assert len(warnings) == 4, warnings
  for old in ('generator.transpose_impl', 'generator.transpose_backward',
              "discriminator.conv_impl='fast'", 'discriminator.normalization'):
    assert sum(old in w for w in warnings) == 1, (old, warnings)
  # What the names are for: the run builds (and validates) under today's code.
  config_lib.validate(config)
  generator, discriminator = models.build(config, (28, 28, 1))
  assert (generator.conv_impl, discriminator.norm) == ('custom_vjp', 'spectral')


def test_mlp_batch_norm_flag_becomes_a_norm_name(tmp_path, caplog):
  caplog.set_level(logging.WARNING)
  for flag, norm in ((True, 'batch'), (False, 'none')):
    raw = {'model': 'mlp', 'generator': {'batch_norm': flag}}
    assert config_lib.load_json(_write(tmp_path, raw)).generator.to_dict() == {'norm': norm}
  assert sum('generator.batch_norm' in w for w in _deprecations(caplog)) == 2


@pytest.mark.parametrize('game,old,game_kw', [
    ('stylegan', {'stylegan': {'pl_weight': 2.0, 'style_mixing_prob': 0.0}},
     {'pl_weight': 2.0, 'style_mixing_prob': 0.0}),
    ('cyclegan', {'cycle_weight': 5.0, 'identity_weight': 0.0, 'adversarial_weight': 2.0,
                  'pool_size': 10},
     {'cycle_weight': 5.0, 'identity_weight': 0.0, 'adversarial_weight': 2.0, 'pool_size': 10}),
    ('pix2pix', {'l1_weight': 10.0}, {'l1_weight': 10.0}),
])
def test_old_top_level_game_settings_move_into_game_kw(tmp_path, caplog, game, old, game_kw):
  caplog.set_level(logging.WARNING)
  config = config_lib.load_json(_write(tmp_path, {'game': game, 'model': game, **old}))
  assert config.game_kw.to_dict() == game_kw
  for name in old:
    assert name not in config, name
    assert sum(w.startswith(f'config.json: {name} is deprecated') for w in
               _deprecations(caplog)) == 1, name


def test_game_settings_of_another_game_are_dropped_and_clashes_fail(tmp_path, caplog):
  caplog.set_level(logging.WARNING)
  config = config_lib.load_json(_write(tmp_path, {'game': 'unconditional', 'l1_weight': 10.0}))
  assert 'l1_weight' not in config and config.game_kw.to_dict() == {}
  assert any('l1_weight' in r.getMessage() and 'dropped' in r.getMessage()
             for r in caplog.records)
  with pytest.raises(ValueError, match='generator.transpose_impl'):
    config_lib.load_json(_write(tmp_path, {'generator': {'transpose_impl': 'lax',
                                                         'conv_impl': 'lax'}}))
  with pytest.raises(ValueError, match='game_kw.pool_size'):
    config_lib.load_json(_write(tmp_path, {'game': 'cyclegan', 'pool_size': 1,
                                           'game_kw': {'pool_size': 2}}))


@pytest.mark.parametrize('name', ['dcgan', 'cyclegan', 'pix2pix', 'semi_supervised', 'stylegan',
                                  'toy_2d'])
def test_config_json_of_todays_runs_loads_back_unchanged(tmp_path, caplog, name):
  caplog.set_level(logging.WARNING)
  config = _parse(f"--config={os.path.join(REPO, 'experiments', name + '.py')}:runlocal")
  path = tmp_path / 'config.json'
  path.write_text(config.to_json(indent=2))  # as train.train_and_evaluate writes it
  loaded = config_lib.load_json(str(path))
  expected = config.to_dict()
  # Today's experiment files may still set a game's settings at the top level; they are read
  # from game_kw after loading, with the same values.
  for rule in config_lib.RENAMED:
    if rule.game == config.game and rule.old in expected:
      value = expected.pop(rule.old)
      expected['game_kw'].update(value if isinstance(value, dict) else
                                 {rule.new.split('.', 1)[1]: value})
  assert loaded.to_dict() == expected
  assert not [w for w in _deprecations(caplog) if 'generator' in w or 'discriminator' in w]


def _parse(*args):
  """The config of `python -m gan_research.main ARGS` (locked, as main.py defines the flag)."""
  argv, values = ['prog', *args], flags.FlagValues()
  config_flags.DEFINE_config_file('config', None, '', flag_values=values, lock_config=True,
                                  sys_argv=argv)  # where it looks for the overrides
  values(argv)
  return values.config


def test_experiment_overrides_use_the_new_names():
  dcgan = os.path.join(REPO, 'experiments', 'dcgan.py')
  config = _parse(f'--config={dcgan}:runlocal', '--config.discriminator.norm=spectral',
                  '--config.generator.conv_impl=lax', '--config.discriminator.conv_impl=custom_vjp',
                  '--config.generator.conv_backward=im2col')
  assert (config.discriminator.norm, config.discriminator.conv_impl) == ('spectral', 'custom_vjp')
  assert (config.generator.conv_impl, config.generator.conv_backward) == ('lax', 'im2col')
  generator, discriminator = models.build(config, (28, 28, 1))
  assert (generator.conv_impl, discriminator.norm) == ('lax', 'spectral')
  # The old names are not fields any more: a locked config rejects them by name.
  for old, name in (('--config.discriminator.normalization=spectral', 'normalization'),
                    ('--config.generator.transpose_impl=lax', 'transpose_impl')):
    with pytest.raises((AttributeError, flags.Error), match=name):
      _parse(f'--config={dcgan}:runlocal', old)
  for name in ('cyclegan', 'pix2pix'):
    path = os.path.join(REPO, 'experiments', f'{name}.py')
    config = _parse(f'--config={path}:runlocal', '--config.generator.norm=none',
                    '--config.discriminator.conv_impl=lax')
    assert (config.generator.norm, config.discriminator.conv_impl) == ('none', 'lax')
  toy = os.path.join(REPO, 'experiments', 'toy_2d.py')
  assert _parse(f'--config={toy}:runlocal', '--config.generator.norm=batch').generator.norm == (
      'batch')

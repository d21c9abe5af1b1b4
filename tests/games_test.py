"""The game contract: one `build` for every game, settings from config.game_kw, the declared
capabilities, and `grad_into_generator` (what the unrolled G loss relies on)."""
import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from gan_research import config_lib, games, models

# Tiny players of every registered game, and the shape of its data. Plain lax convolutions:
# they compile faster than the ops/ ones, and the game does not depend on the choice.
TINY = {
    'unconditional': ((2,), dict(model='mlp', generator={'latent_dim': 2, 'hidden_sizes': (8,)},
                                 discriminator={'hidden_sizes': (8,)})),
    'stylegan': ((8, 8, 1), dict(
        model='stylegan', penalty='r1', penalty_weight=0.01,
        generator={'latent_dim': 8, 'w_dim': 8, 'mapping_layers': 1, 'mapping_width': 8,
                   'channel_base': 32, 'channel_max': 8},
        discriminator={'channel_base': 32, 'channel_max': 8, 'mbstd_group_size': 2})),
    'cyclegan': ((8, 8, 1), dict(
        model='cyclegan', objective='least_squares',
        generator={'base_width': 2, 'num_res_blocks': 1, 'num_downsamplings': 1,
                   'conv_impl': 'lax'},
        discriminator={'base_width': 2, 'num_layers': 1, 'conv_impl': 'lax'})),
    'pix2pix': ((8, 8, 1), dict(
        model='pix2pix', generator={'base_width': 1, 'conv_impl': 'lax'},
        discriminator={'base_width': 1, 'num_layers': 1, 'conv_impl': 'lax'})),
    'superres': ((8, 8, 1), dict(
        model='srgan', generator={'scale': 2, 'width': 4, 'num_blocks': 1},
        discriminator={'width': 4, 'num_stages': 1, 'dense_width': 4, 'conv_impl': 'lax'})),
    'conditional': ((8, 8, 1), dict(
        model='dcgan', generator={'latent_dim': 4, 'base_width': 2, 'conv_impl': 'lax',
                                  'num_classes': 3, 'cond': 'batchnorm'},
        discriminator={'base_width': 2, 'conv_impl': 'lax', 'num_classes': 3,
                       'cond': 'projection'})),
    'semi_supervised': ((4, 4, 1), dict(
        model='ssl_mlp', generator={'latent_dim': 4, 'hidden_sizes': (8,)},
        discriminator={'num_classes': 3, 'hidden_sizes': (8, 8)})),
}
# StyleGAN's d_loss is Unconditional's (on style-mixed fakes), and its train step runs in
# stylegan_test; tracing it here would add tens of CPU seconds and test no other code. The
# conditional game's D judges (x, label) pairs, not x alone (discriminate_classes), and
# conditional_test traces, trains and resumes it.
TRACED = sorted(set(games.GAMES) - {'stylegan', 'conditional'})


class _Source:
  """The parts of a source the games read: held-out pairs (two-domain games), a labelled subset
  and the examples of a batch (semi_supervised initialises D from them)."""
  scale = None
  test = {'x': np.arange(2 * 64, dtype=np.uint8).reshape(2, 8, 8, 1),
          'y': np.arange(2 * 64, dtype=np.uint8)[::-1].reshape(2, 8, 8, 1)}
  labelled = np.arange(3)

  def __init__(self, example_shape):
    self.example_shape = example_shape

  def get_batch(self, step, *, d_steps, batch_size, **_):
    x = np.random.default_rng(step).uniform(-1, 1, (d_steps, batch_size) + self.example_shape)
    return {'x': x.astype(np.float32)}


class _SuperRes:
  """The same for super-resolution: inputs half the size of their answers."""
  scale = 2
  test = {'x': np.arange(2 * 16, dtype=np.uint8).reshape(2, 4, 4, 1),
          'y': np.arange(2 * 64, dtype=np.uint8).reshape(2, 8, 8, 1)}


class _Labelled:
  """The part of a labelled source the conditional game reads."""
  num_classes = 3
  labelled = None


def _config(name, **game_kw):
  c = config_lib.base_config()
  c.update(game=name, **TINY[name][1])
  c.game_kw = {**games.default_kw(name), **game_kw}
  return c


def _build(config):
  shape = TINY[config.game][0]
  generator, discriminator = models.build(config, shape)
  superres = config.game == 'superres'
  if superres:
    source = _SuperRes()
  elif config.game == 'conditional':
    source = _Labelled()
  else:
    source = _Source(shape)
  game = games.build(config, generator, discriminator, source=source, constrain=lambda x: x)
  x = jax.random.uniform(jax.random.key(0), (2,) + shape, minval=-1, maxval=1)
  if superres:
    return game, {'x': x[:, ::2, ::2], 'y': x}
  batch = {'x': x, 'y': -x} if game.translates else {'x': x}
  if game.classifies:  # the labelled batch of a source with a labelled subset
    batch.update(labelled_x=-x, labelled_label=jnp.array([0, 2], jnp.int32))
  return game, batch


def test_every_registered_game_has_a_tiny_version():
  assert sorted(TINY) == sorted(games.GAMES)


def _variables(game, batch):
  # The trainer initialises with data of the source's example_shape: 'y' of paired sources.
  g_vars, d_vars, extras = game.init(jax.random.key(1), batch.get('y', batch['x']))
  split = lambda v: (v['params'], {k: c for k, c in v.items() if k != 'params'})
  return split(g_vars), split(d_vars), extras


@pytest.mark.parametrize('name', sorted(games.GAMES))
def test_build_calls_every_game_the_same_way_from_its_default_kw(name):
  config = _config(name)
  assert config.game_kw.to_dict() == games.default_kw(name)
  game, _ = _build(config)
  assert isinstance(game, games.GAMES[name]) and isinstance(game, games.Game)


@pytest.mark.parametrize('name', TRACED)
def test_every_game_keeps_the_contract_and_honours_grad_into_generator(name):
  """init, both losses, sample, discriminate, translate and classify as base.Game states them;
  d_loss stops the gradient of G's samples unless grad_into_generator=True (the unrolled G
  loss), which passes it into G's parameters."""
  game, batch = _build(_config(name))
  (g_params, g_state), (d_params, d_state), extras = _variables(game, batch)
  rng, regularize = jax.random.key(2), jnp.asarray(True)

  @functools.partial(jax.jit, static_argnums=1)  # one compile, not op-by-op dispatch
  def d_loss_and_g_grad(g_params, grad_into_generator):
    d_loss = lambda g_params: game.d_loss(d_params, d_state, g_params, g_state, extras, batch,
                                          rng, regularize, grad_into_generator)
    return jax.value_and_grad(d_loss, has_aux=True)(g_params)

  (d_loss, (new_d_state, _, d_metrics)), g_grad = d_loss_and_g_grad(g_params, False)
  assert float(optax.tree.norm(g_grad)) == 0.0
  g_grad = d_loss_and_g_grad(g_params, True)[1]
  assert float(optax.tree.norm(g_grad)) > 0.0
  g_loss, (new_g_state, _, g_metrics) = game.g_loss(
      g_params, g_state, d_params, d_state, extras, batch, rng, regularize)
  assert np.isfinite(d_loss) and np.isfinite(g_loss)
  assert {'loss/d', 'd/real_logit', 'd/fake_logit'} <= set(d_metrics) and 'loss/g' in g_metrics
  assert jax.tree.structure(new_d_state) == jax.tree.structure(d_state)
  assert jax.tree.structure(new_g_state) == jax.tree.structure(g_state)
  samples = game.sample(g_params, g_state, extras, jax.random.key(3), 2)
  assert samples.shape == (2,) + TINY[name][0]
  judged = jnp.concatenate([batch['x'], samples], -1) if name == 'pix2pix' else samples
  logits, _ = game.discriminate(d_params, d_state, judged)
  assert logits.dtype == jnp.float32 and logits.shape[0] == 2 and logits.size >= 2
  if game.translates:
    np.testing.assert_array_equal(game.translate(g_params, g_state, batch['x']),
                                  game.translate(g_params, g_state, batch['x'], 'G'))
  else:
    with pytest.raises(NotImplementedError, match='does not translate'):
      game.translate(g_params, g_state, batch['x'])
  if game.classifies:
    assert game.classify(d_params, d_state, extras, batch['x']).shape == (2, 3)
  else:
    with pytest.raises(NotImplementedError, match='does not classify'):
      game.classify(d_params, d_state, extras, batch['x'])


def test_game_kw_reaches_the_game_and_defaults_fill_the_rest():
  game, _ = _build(_config('cyclegan', pool_size=3))
  assert game.pool_size == 3 and game.cycle_weight == games.default_kw('cyclegan')['cycle_weight']
  config = _config('stylegan')
  config.game_kw = {}  # base_config's empty game_kw: every default
  game, _ = _build(config)
  assert game.style_mixing_prob == games.default_kw('stylegan')['style_mixing_prob']


def test_unknown_game_kw_keys_and_game_names_fail_with_the_valid_ones():
  config = _config('cyclegan')
  config.game_kw.pool_sise = 10
  with pytest.raises(ValueError, match=r"\['pool_sise'\].*valid keys: \['adversarial_weight', "
                                       r"'cycle_weight', 'identity_weight', 'pool_size'\]"):
    _build(config)
  config = _config('unconditional')
  config.game_kw.pl_weight = 1.0  # a StyleGAN setting: not the unconditional game's
  with pytest.raises(ValueError, match=r'valid keys: \[\]'):
    _build(config)
  config.game = 'stylegan2'
  with pytest.raises(ValueError, match='valid games'):
    games.get_game(config.game)


def test_translation_games_need_a_test_split():
  config = _config('pix2pix')
  generator, discriminator = models.build(config, (8, 8, 1))

  class NoPairs:
    test = None

  with pytest.raises(ValueError, match='two-domain dataset'):
    games.build(config, generator, discriminator, source=NoPairs(), constrain=lambda x: x)

"""Image-to-image games: CycleGAN (unpaired) and pix2pix (paired).

They read the source's held-out split `source.test` ({'x', 'y'} uint8 images) for fixed sample
inputs, so they need a two-domain dataset. `discriminate` judges what each game's D sees: images
of domain Y for CycleGAN (its D_Y), concat(input, output) on channels for pix2pix.
"""
import jax
import jax.numpy as jnp

from gan_research.data import images as image_data
from gan_research.games import base


def image_pool_query(pool, count, images, rng):
  """The history buffer of Shrivastava et al. 2017 as CycleGAN uses it, as a pure function.

  pool: [size, *image_shape] stored images; count: how many slots are filled (int32 scalar).
  Each image of the batch, in order: while the pool is not full it is stored and returned;
  once full, with probability 1/2 it replaces a uniformly chosen stored image, which is returned
  instead, and otherwise it is returned and not stored. size 0 returns the images unchanged.

  Returns (images for the discriminator, new pool, new count).
  """
  size = pool.shape[0]
  if size == 0:
    return images, pool, count

  def body(carry, inputs):
    pool, count = carry
    image, key = inputs
    coin_key, index_key = jax.random.split(key)
    full = count >= size
    swap = full & (jax.random.uniform(coin_key) > 0.5)
    index = jnp.where(full, jax.random.randint(index_key, (), 0, size), count)
    stored = pool[index]
    pool = pool.at[index].set(jnp.where(~full | swap, image, stored))
    return (pool, jnp.minimum(count + 1, size)), jnp.where(swap, stored, image)

  (pool, count), out = jax.lax.scan(
      body, (pool, count), (images.astype(pool.dtype), jax.random.split(rng, images.shape[0])))
  return out.astype(images.dtype), pool, count


def cycle_loss(x, reconstructed_x, y, reconstructed_y):
  """Cycle consistency (Zhu et al. 2017, eq. 2): E|F(G(x)) - x|_1 + E|G(F(y)) - y|_1, as means
  over pixels (PyTorch's L1Loss)."""
  return jnp.mean(jnp.abs(reconstructed_x - x)) + jnp.mean(jnp.abs(reconstructed_y - y))


def identity_loss(x, f_of_x, y, g_of_y):
  """Identity mapping loss (Zhu et al. 2017, section 5.2): E|G(y) - y|_1 + E|F(x) - x|_1."""
  return jnp.mean(jnp.abs(g_of_y - y)) + jnp.mean(jnp.abs(f_of_x - x))


def _named(variables_by_name):
  """{'G': vars_G, 'F': vars_F} -> flax variables {collection: {'G': ..., 'F': ...}}."""
  first = next(iter(variables_by_name.values()))
  return {col: {name: v[col] for name, v in variables_by_name.items()} for col in first}


def _pick(state, name):
  return {col: s[name] for col, s in state.items()}


def _put(state, name, new):
  return {col: {**s, name: new[col]} for col, s in state.items()}


class Translation(base.Game):
  """Parts shared by the image-to-image games: the checks, fixed test inputs for sampling."""
  translates = True
  # The test inputs that samples translate (the realism metrics' samples: FID of G(x) against
  # domain Y): every one of a folder-sized split, a bounded share of a large one.
  num_fixed_inputs = 1000

  def __init__(self, generator, discriminator, *, objective, penalty='none',
               penalty_weight=0.0, penalty_every=1, g_penalty_every=1, ema_decay=0.0,
               source=None, constrain=base.identity):
    if penalty != 'none':
      raise ValueError(f'config.penalty={penalty!r}: the translation games take no penalty; '
                       "set config.penalty='none'.")
    if ema_decay > 0 and generator.norm == 'batch':
      # Translations run G in inference mode, with running statistics that were measured on
      # the training weights, not on their average (Unconditional.sample).
      raise ValueError(f"config.ema_decay={ema_decay} with generator.norm='batch': the EMA "
                       'generator of a translation game would normalise with statistics of '
                       "other weights. Set generator.norm='instance' or config.ema_decay=0.")
    if source is None or source.test is None:
      raise ValueError('Translation games need a two-domain dataset ({x, y} batches with a test '
                       'split): inverted_mnist, unpaired_folder, cycle_gan/NAME or '
                       'paired_folder.')
    super().__init__(generator, discriminator, objective=objective, penalty=penalty,
                     penalty_weight=penalty_weight, penalty_every=penalty_every,
                     g_penalty_every=g_penalty_every, ema_decay=ema_decay, source=source,
                     constrain=constrain)
    fixed = source.test['x'][:self.num_fixed_inputs]
    self.inputs = {'x': jnp.asarray(image_data.to_float(fixed))}

  def sample(self, g_params, g_state, extras, rng, n, *, ema=False):
    """G(x) for n of the fixed test inputs x in a random order: samples of domain Y.

    Without replacement: n up to the number of inputs translates each at most once (so FID over
    all 121 Monet paintings sees each painting once); beyond it the order repeats.
    """
    del extras, ema  # the constructor refuses EMA weights with a BatchNorm generator
    count = self.inputs['x'].shape[0]
    order = jax.random.permutation(rng, count)
    index = jnp.tile(order, -(-n // count))[:n]
    return self.translate(g_params, g_state, self.constrain(self.inputs['x'][index]))


class CycleGAN(Translation):
  """Unpaired translation (Zhu et al. 2017): G: X -> Y, F: Y -> X against D_Y and D_X.

  g params {'G', 'F'}, d params {'D_X', 'D_Y'}; extras hold the two image pools (generated x's
  for D_X, generated y's for D_Y) as fixed-size arrays with fill counts, updated in d_loss.
  Settings (config.game_kw): cycle_weight (lambda), identity_weight (times lambda),
  adversarial_weight, pool_size (generated images per domain kept for the discriminators).
  """

  def __init__(self, generator, discriminator, *, objective='least_squares', penalty='none',
               penalty_weight=0.0, penalty_every=1, g_penalty_every=1, ema_decay=0.0,
               source=None, constrain=base.identity, cycle_weight=10.0, identity_weight=0.5,
               adversarial_weight=1.0, pool_size=50):
    super().__init__(generator, discriminator, objective=objective, penalty=penalty,
                     penalty_weight=penalty_weight, penalty_every=penalty_every,
                     g_penalty_every=g_penalty_every, ema_decay=ema_decay, source=source,
                     constrain=constrain)
    if cycle_weight < 0 or identity_weight < 0 or pool_size < 0:
      raise ValueError(f'cycle_weight, identity_weight and pool_size must be >= 0; got '
                       f'{cycle_weight}, {identity_weight}, {pool_size}.')
    self.cycle_weight, self.identity_weight = cycle_weight, identity_weight
    self.adversarial_weight, self.pool_size = adversarial_weight, int(pool_size)

  def init(self, rng, x):
    keys = jax.random.split(rng, 4)
    g_variables = _named({name: self.generator.init(k, x, train=False)
                          for name, k in zip(('G', 'F'), keys[:2])})
    d_variables = _named({name: self.discriminator.init(k, x, train=False)
                          for name, k in zip(('D_X', 'D_Y'), keys[2:])})
    pool = jnp.zeros((self.pool_size,) + x.shape[1:], jnp.float32)
    count = jnp.zeros((), jnp.int32)
    extras = {'pool_x': pool, 'pool_x_count': count, 'pool_y': pool, 'pool_y_count': count}
    return g_variables, d_variables, extras

  def translate(self, g_params, g_state, images, direction='G'):
    """G(images) (X -> Y) or, with direction='F', F(images) (Y -> X); inference mode."""
    if direction not in ('G', 'F'):
      raise ValueError(f"direction must be 'G' or 'F'; got {direction!r}.")
    return base.apply(self.generator, g_params[direction], _pick(g_state, direction), images,
                      train=False)[0]

  def discriminate(self, d_params, d_state, x):
    """D_Y's logits for images x of domain Y (what `sample` returns), and the updated state."""
    logits, state = self._discriminate_one(d_params['D_Y'], _pick(d_state, 'D_Y'), x)
    return logits, _put(d_state, 'D_Y', state)

  def _discriminate_one(self, params, state, x):
    """Patch logits in float32 of one discriminator (D_X or D_Y), and its updated state."""
    logits, state = base.apply(self.discriminator, params, state, x, train=True)
    return logits.astype(jnp.float32), state

  def _generate(self, g_params, g_state, name, images, rng):
    out, new = base.apply(self.generator, g_params[name], _pick(g_state, name), images,
                          train=True, rng=rng)
    return out, _put(g_state, name, new)

  def d_loss(self, d_params, d_state, g_params, g_state, extras, batch, rng, regularize,
             grad_into_generator=False):
    del regularize  # no discriminator penalty in this game
    x, y = batch['x'], batch['y']
    keys = jax.random.split(rng, 4)
    fake_y = self._generate(g_params, g_state, 'G', x, keys[0])[0]
    fake_x = self._generate(g_params, g_state, 'F', y, keys[1])[0]
    if not grad_into_generator:
      fake_y, fake_x = jax.lax.stop_gradient((fake_y, fake_x))
    # D updates see images from the history pool, not only the latest generator's (section 4).
    # A returned new image keeps its gradient; the stored ones are history and carry none.
    fake_y, pool_y, count_y = image_pool_query(extras['pool_y'], extras['pool_y_count'],
                                               fake_y, keys[2])
    fake_x, pool_x, count_x = image_pool_query(extras['pool_x'], extras['pool_x_count'],
                                               fake_x, keys[3])
    extras = {'pool_x': jax.lax.stop_gradient(pool_x), 'pool_x_count': count_x,
              'pool_y': jax.lax.stop_gradient(pool_y), 'pool_y_count': count_y}
    losses, real_means, fake_means = {}, [], []
    for name, real, fake in (('D_X', x, fake_x), ('D_Y', y, fake_y)):
      state = _pick(d_state, name)
      real_logits, state = self._discriminate_one(d_params[name], state, real)
      fake_logits, state = self._discriminate_one(d_params[name], state, fake)
      d_state = _put(d_state, name, state)
      losses[name] = self.objective.d_loss(real_logits=real_logits, fake_logits=fake_logits)
      real_means.append(jnp.mean(real_logits))
      fake_means.append(jnp.mean(fake_logits))
    # The two discriminators share no parameters: the sum's gradient is each one's own.
    loss = losses['D_X'] + losses['D_Y']
    metrics = {'loss/d': loss, 'loss/d_x': losses['D_X'], 'loss/d_y': losses['D_Y'],
               'd/real_logit': jnp.mean(jnp.stack(real_means)),
               'd/fake_logit': jnp.mean(jnp.stack(fake_means))}
    return loss, (d_state, extras, metrics)

  def g_loss(self, g_params, g_state, d_params, d_state, extras, batch, rng, regularize):
    del regularize  # no generator regulariser in this game
    x, y = batch['x'], batch['y']
    keys = jax.random.split(rng, 6)
    fake_y, g_state = self._generate(g_params, g_state, 'G', x, keys[0])
    reconstructed_x, g_state = self._generate(g_params, g_state, 'F', fake_y, keys[1])
    fake_x, g_state = self._generate(g_params, g_state, 'F', y, keys[2])
    reconstructed_y, g_state = self._generate(g_params, g_state, 'G', fake_x, keys[3])
    logits_y, _ = self._discriminate_one(d_params['D_Y'], _pick(d_state, 'D_Y'), fake_y)
    logits_x, _ = self._discriminate_one(d_params['D_X'], _pick(d_state, 'D_X'), fake_x)
    adversarial = (self.objective.g_loss(fake_logits=logits_y)
                   + self.objective.g_loss(fake_logits=logits_x))
    f32 = lambda a: a.astype(jnp.float32)
    cycle = cycle_loss(x, f32(reconstructed_x), y, f32(reconstructed_y))
    loss = self.adversarial_weight * adversarial + self.cycle_weight * cycle
    metrics = {'loss/g_adversarial': adversarial, 'loss/cycle': cycle}
    if self.identity_weight > 0:  # G(y) ~ y and F(x) ~ x keep colours (Monet <-> photo)
      g_of_y, g_state = self._generate(g_params, g_state, 'G', y, keys[4])
      f_of_x, g_state = self._generate(g_params, g_state, 'F', x, keys[5])
      identity = identity_loss(x, f32(f_of_x), y, f32(g_of_y))
      loss = loss + self.cycle_weight * self.identity_weight * identity
      metrics['loss/identity'] = identity
    metrics['loss/g'] = loss
    return loss, (g_state, extras, metrics)


class Pix2Pix(Translation):
  """Paired translation (Isola et al. 2017): G(x) against a PatchGAN on concat(x, image), plus
  l1_weight * E|G(x) - y|_1. Settings (config.game_kw): l1_weight (lambda)."""

  def __init__(self, generator, discriminator, *, objective='nonsaturating', penalty='none',
               penalty_weight=0.0, penalty_every=1, g_penalty_every=1, ema_decay=0.0,
               source=None, constrain=base.identity, l1_weight=100.0):
    super().__init__(generator, discriminator, objective=objective, penalty=penalty,
                     penalty_weight=penalty_weight, penalty_every=penalty_every,
                     g_penalty_every=g_penalty_every, ema_decay=ema_decay, source=source,
                     constrain=constrain)
    if l1_weight < 0:
      raise ValueError(f'l1_weight must be >= 0; got {l1_weight}.')
    self.l1_weight = l1_weight

  def init(self, rng, x):
    g_rng, d_rng = jax.random.split(rng)
    g_variables = self.generator.init({'params': g_rng, 'dropout': g_rng}, x, train=False)
    d_variables = self.discriminator.init(d_rng, jnp.concatenate([x, x], axis=-1), train=False)
    return g_variables, d_variables, {}

  def translate(self, g_params, g_state, images, direction='G'):
    """G(images) in inference mode (dropout off)."""
    if direction != 'G':
      raise ValueError(f"pix2pix has one generator: direction must be 'G'; got {direction!r}.")
    return base.apply(self.generator, g_params, g_state, images, train=False)[0]

  def d_loss(self, d_params, d_state, g_params, g_state, extras, batch, rng, regularize,
             grad_into_generator=False):
    del regularize
    x, y = batch['x'], batch['y']
    fake = base.apply(self.generator, g_params, g_state, x, train=True, rng=rng)[0]
    if not grad_into_generator:
      fake = jax.lax.stop_gradient(fake)
    real_logits, d_state = self.discriminate(d_params, d_state, jnp.concatenate([x, y], -1))
    fake_logits, d_state = self.discriminate(d_params, d_state,
                                             jnp.concatenate([x, fake.astype(x.dtype)], -1))
    loss = self.objective.d_loss(real_logits=real_logits, fake_logits=fake_logits)
    metrics = {'loss/d': loss, 'd/real_logit': jnp.mean(real_logits),
               'd/fake_logit': jnp.mean(fake_logits)}
    return loss, (d_state, extras, metrics)

  def g_loss(self, g_params, g_state, d_params, d_state, extras, batch, rng, regularize):
    del regularize
    x, y = batch['x'], batch['y']
    fake, g_state = base.apply(self.generator, g_params, g_state, x, train=True, rng=rng)
    logits, _ = self.discriminate(d_params, d_state,
                                  jnp.concatenate([x, fake.astype(x.dtype)], -1))
    adversarial = self.objective.g_loss(fake_logits=logits)
    l1 = jnp.mean(jnp.abs(fake.astype(jnp.float32) - y))
    loss = adversarial + self.l1_weight * l1
    return loss, (g_state, extras, {'loss/g': loss, 'loss/g_adversarial': adversarial,
                                    'loss/l1': l1})

"""Games: what the two players compute. The trainer (steps.py) owns how they are updated.

A game is built by `from_config(config, generator, discriminator, constrain)` and gives:

  init(rng, x) -> (g_variables, d_variables, extras)
  d_loss(d_params, d_state, g_params, g_state, extras, batch, rng, regularize)
      -> (loss, (new_d_state, new_extras, metrics))
  g_loss(g_params, g_state, d_params, d_state, extras, batch, rng, regularize)
      -> (loss, (new_g_state, new_extras, metrics))
  sample(g_params, g_state, extras, rng, n, *, ema=False) -> samples [n, *example_shape]
      (ema: g_params are the trainer's moving average of G's weights, not G's own)

The trainer differentiates each loss with respect to its first argument. `regularize` (a traced
bool) says whether this update adds the lazy regulariser (Karras et al. 2020). `extras` is the
game's own state (a tracked average w, an image pool, ...), carried in the TrainState; a loss
returns it updated, or unchanged. New families (image-to-image, ...) add a class here, not a
trainer.
"""
import jax
import jax.numpy as jnp

from gan_research import models, objectives


class Unconditional:
  """G(z) against D(x): DCGAN, the toy MLPs and every noise-to-sample model."""
  # d_loss stops the gradient into G's samples (D's update never needs it); the unrolled G loss
  # (steps.make_unrolled_g_loss) turns it on in its copy of the game to differentiate through D.
  differentiable_fakes = False

  def __init__(self, generator, discriminator, *, objective: str, penalty: str = 'none',
               penalty_weight: float = 0.0, penalty_every: int = 1, constrain=lambda x: x):
    self.generator, self.discriminator = generator, discriminator
    self.objective = objectives.get_objective(objective)
    self.penalty = objectives.get_penalty(penalty)
    # Lazy regularisation (Karras et al. 2020): applied every k-th update with weight * k.
    self.penalty_scale = penalty_weight * penalty_every
    self.constrain = constrain  # lays out per-example arrays (latents) like the data

  @classmethod
  def from_config(cls, config, generator, discriminator, constrain=lambda x: x):
    return cls(generator, discriminator, objective=config.objective, penalty=config.penalty,
               penalty_weight=config.penalty_weight, penalty_every=config.penalty_every,
               constrain=constrain)

  def latents(self, rng, n):
    z = models.sample_latent(rng, (n, self.generator.latent_dim),
                             self.generator.latent_distribution)
    return self.constrain(z)

  def init(self, rng, x):
    g_rng, d_rng, z_rng = jax.random.split(rng, 3)
    z = self.latents(z_rng, x.shape[0])
    g_variables = self.generator.init(g_rng, z, train=False)
    d_variables = self.discriminator.init(d_rng, x, train=False)
    return g_variables, d_variables, {}

  def generate(self, g_params, g_state, z, *, train: bool):
    """Samples from G; in training mode also returns G's updated BatchNorm statistics."""
    if train and g_state:
      return self.generator.apply({'params': g_params, **g_state}, z, train=True,
                                  mutable=list(g_state))
    return self.generator.apply({'params': g_params, **g_state}, z, train=train), g_state

  def sample(self, g_params, g_state, extras, rng, n, *, ema=False):
    """n samples of G, in inference mode, except BatchNorm under EMA weights.

    G's running BatchNorm statistics were measured on its training weights; they do not fit the
    averaged ones (a DCGAN's EMA samples scored fid_mnist 50 with them against 42 with batch
    statistics at step 2,000, 17 against 14 at step 4,000). So EMA weights normalise with the
    statistics of the samples drawn together (the sampler's chunks, the training batch size),
    as G did in training.
    """
    del extras
    batch_statistics = ema and bool(g_state)
    return self.generate(g_params, g_state, self.latents(rng, n), train=batch_statistics)[0]

  def _discriminate(self, d_params, d_state, x):
    """D's logits, in float32 whatever D computes in: objectives and penalties reduce them."""
    if d_state:
      logits, d_state = self.discriminator.apply({'params': d_params, **d_state}, x, train=True,
                                                 mutable=list(d_state))
    else:
      logits = self.discriminator.apply({'params': d_params}, x, train=True)
    return logits.astype(jnp.float32), d_state

  discriminate = _discriminate  # the public name figures and sweeps call

  def d_loss(self, d_params, d_state, g_params, g_state, extras, batch, rng, regularize):
    z_rng, penalty_rng = jax.random.split(rng)
    real = batch['x']
    fake = self._fakes_for_d(g_params, g_state, z_rng, real.shape[0])
    if not self.differentiable_fakes:
      fake = jax.lax.stop_gradient(fake)
    # Real and fake go through D separately, as in the reference DCGAN: each has its own
    # BatchNorm statistics.
    real_logits, d_state = self._discriminate(d_params, d_state, real)
    fake_logits, d_state = self._discriminate(d_params, d_state, fake)
    loss = self.objective.d_loss(real_logits=real_logits, fake_logits=fake_logits)
    metrics = {'loss/d': loss, 'd/real_logit': jnp.mean(real_logits),
               'd/fake_logit': jnp.mean(fake_logits)}
    if self.penalty is not None:
      d_fn = lambda x: self._discriminate(d_params, d_state, x)[0]
      penalty = jax.lax.cond(
          regularize, lambda: self.penalty(d_fn, real=real, fake=fake, rng=penalty_rng),
          lambda: jnp.zeros((), real.dtype))
      loss = loss + self.penalty_scale * penalty
      metrics['loss/d_penalty'] = penalty
    return loss, (d_state, extras, metrics)

  def _fakes_for_d(self, g_params, g_state, rng, n):
    """The n generated samples D's update sees (G's own state updates are not kept)."""
    return self.generate(g_params, g_state, self.latents(rng, n), train=True)[0]

  def g_loss(self, g_params, g_state, d_params, d_state, extras, batch, rng, regularize):
    del regularize  # no generator regulariser in this game
    fake, g_state = self.generate(g_params, g_state, self.latents(rng, batch['x'].shape[0]),
                                  train=True)
    fake_logits, _ = self._discriminate(d_params, d_state, fake)
    loss = self.objective.g_loss(fake_logits=fake_logits)
    return loss, (g_state, extras, {'loss/g': loss})


class StyleGAN(Unconditional):
  """StyleGAN2's game (Karras et al. 2020): non-saturating logistic loss, lazy R1 on reals for
  D, and for G style mixing, lazy path-length regularisation and the tracked average w.

  extras = {'w_avg': [w_dim] running mean of w (decay w_avg_decay, one update per G step),
            'pl_mean': the running mean path length a (decay pl_decay)}.
  R1 is the config's `penalty='r1'` with `penalty_weight` = gamma every `penalty_every` D updates;
  the path-length penalty runs every `g_penalty_every` G updates with weight pl_weight * k.
  """

  def __init__(self, generator, discriminator, *, objective: str = 'nonsaturating',
               penalty: str = 'r1', penalty_weight: float = 0.0, penalty_every: int = 16,
               pl_weight: float = 2.0, pl_every: int = 4, pl_decay: float = 0.01,
               pl_batch_shrink: int = 2, style_mixing_prob: float = 0.9,
               w_avg_decay: float = 0.995, truncation_psi: float = 1.0, constrain=lambda x: x):
    super().__init__(generator, discriminator, objective=objective, penalty=penalty,
                     penalty_weight=penalty_weight, penalty_every=penalty_every,
                     constrain=constrain)
    if not 0.0 <= style_mixing_prob <= 1.0:
      raise ValueError(f'style_mixing_prob must be in [0, 1]; got {style_mixing_prob}.')
    if pl_batch_shrink < 1 or pl_weight < 0:
      raise ValueError(f'pl_batch_shrink must be >= 1 and pl_weight >= 0; got {pl_batch_shrink}, '
                       f'{pl_weight}.')
    self.pl_scale = pl_weight * pl_every  # lazy regularisation: every k-th update, weight * k
    self.pl_decay, self.pl_batch_shrink = pl_decay, pl_batch_shrink
    self.style_mixing_prob, self.w_avg_decay = style_mixing_prob, w_avg_decay
    self.truncation_psi = truncation_psi
    self.num_ws = stylegan_models().num_ws(generator.output_shape[0])

  @classmethod
  def from_config(cls, config, generator, discriminator, constrain=lambda x: x):
    return cls(generator, discriminator, objective=config.objective, penalty=config.penalty,
               penalty_weight=config.penalty_weight, penalty_every=config.penalty_every,
               pl_every=config.g_penalty_every, constrain=constrain,
               **config.get('stylegan', {}))

  def init(self, rng, x):
    g_variables, d_variables, _ = super().init(rng, x)
    extras = {'w_avg': jnp.zeros((self.generator.w_dim,), jnp.float32),
              'pl_mean': jnp.zeros((), jnp.float32)}
    return g_variables, d_variables, extras

  def mapping(self, g_params, z, **kwargs):
    return self.generator.apply({'params': g_params}, z, method='mapping', **kwargs)

  def synthesis(self, g_params, ws, rng, **kwargs):
    return self.generator.apply({'params': g_params}, ws, method='synthesis',
                                rngs={'noise': rng}, **kwargs)

  def mixed_ws(self, g_params, rng, n):
    """ws of n latents; with probability style_mixing_prob a sample takes a second latent's w
    from a crossover layer drawn uniformly from 1 .. num_ws - 1."""
    z_rng, mix_rng, cut_rng, p_rng = jax.random.split(rng, 4)
    ws = self.mapping(g_params, self.latents(z_rng, n))
    if self.style_mixing_prob > 0 and self.num_ws > 1:
      cutoff = jax.random.randint(cut_rng, (n,), 1, self.num_ws)
      mix = jax.random.uniform(p_rng, (n,)) < self.style_mixing_prob
      cutoff = self.constrain(jnp.where(mix, cutoff, self.num_ws))
      ws = stylegan_models().mix_styles(ws, self.mapping(g_params, self.latents(mix_rng, n)),
                                        cutoff)
    return ws

  def sample(self, g_params, g_state, extras, rng, n, *, ema=False):
    del ema  # no BatchNorm in StyleGAN's generator: EMA weights need nothing else
    z_rng, noise_rng = jax.random.split(rng)
    return self.generator.apply({'params': g_params, **g_state}, self.latents(z_rng, n),
                                train=False, w_avg=extras['w_avg'], psi=self.truncation_psi,
                                rngs={'noise': noise_rng})

  def _fakes_for_d(self, g_params, g_state, rng, n):
    """D's update sees style-mixed samples, as in the official training loop."""
    del g_state
    ws_rng, noise_rng = jax.random.split(rng)
    return self.synthesis(g_params, self.mixed_ws(g_params, ws_rng, n), noise_rng)

  def g_loss(self, g_params, g_state, d_params, d_state, extras, batch, rng, regularize):
    ws_rng, noise_rng, pl_rng = jax.random.split(rng, 3)
    n = batch['x'].shape[0]
    ws = self.mixed_ws(g_params, ws_rng, n)
    fake = self.synthesis(g_params, ws, noise_rng)
    fake_logits, _ = self._discriminate(d_params, d_state, fake)
    loss = self.objective.g_loss(fake_logits=fake_logits)
    metrics = {'loss/g': loss}
    # The tracked average w (truncation's centre): ws[:, 0] is the unmixed w of each sample.
    w_mean = jax.lax.stop_gradient(jnp.mean(ws[:, 0], axis=0))
    w_avg = self.w_avg_decay * extras['w_avg'] + (1.0 - self.w_avg_decay) * w_mean
    pl_mean = extras['pl_mean']
    if self.pl_scale > 0:
      synth = lambda ws, rng: self.synthesis(g_params, ws, rng)
      penalty, pl_mean = jax.lax.cond(
          regularize,
          lambda: objectives.path_length_penalty(
              synth, self.mixed_ws(g_params, pl_rng, max(n // self.pl_batch_shrink, 1)),
              extras['pl_mean'], jax.random.fold_in(pl_rng, 1), decay=self.pl_decay),
          lambda: (jnp.zeros((), jnp.float32), extras['pl_mean']))
      loss = loss + self.pl_scale * penalty
      metrics['loss/g_path_length'] = penalty
      metrics['g/pl_mean'] = pl_mean
    return loss, (g_state, {'w_avg': w_avg, 'pl_mean': pl_mean}, metrics)


def stylegan_models():
  # Imported here, not at the top: only this game needs it.
  from gan_research.models import stylegan
  return stylegan


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


def _apply(module, params, state, x, *, train, rng=None):
  """module(x) with its non-trained collections; in training also returns them updated.

  `rng` feeds dropout (pix2pix's U-Net) in training mode.
  """
  rngs = {'dropout': rng} if train and rng is not None else None
  variables = {'params': params, **state}
  if train and state:
    return module.apply(variables, x, train=True, mutable=list(state), rngs=rngs)
  return module.apply(variables, x, train=train, rngs=rngs), state


def _named(variables_by_name):
  """{'G': vars_G, 'F': vars_F} -> flax variables {collection: {'G': ..., 'F': ...}}."""
  first = next(iter(variables_by_name.values()))
  return {col: {name: v[col] for name, v in variables_by_name.items()} for col in first}


def _pick(state, name):
  return {col: s[name] for col, s in state.items()}


def _put(state, name, new):
  return {col: {**s, name: new[col]} for col, s in state.items()}


class _Translation:
  """Parts shared by the image-to-image games: fixed test inputs for sampling, settings."""
  takes_source = True  # games.build hands it the data source (for fixed sample inputs)
  num_fixed_inputs = 64

  def _check_and_keep_inputs(self, source, penalty):
    if penalty != 'none':
      raise ValueError(f'config.penalty={penalty!r}: the translation games take no penalty; '
                       "set config.penalty='none'.")
    if source is None or not hasattr(source, 'fixed_inputs'):
      raise ValueError('Translation games need a two-domain dataset ({x, y} batches): '
                       'inverted_mnist, unpaired_folder, cycle_gan/NAME or paired_folder.')
    inputs = source.fixed_inputs(self.num_fixed_inputs)
    self.inputs = {k: jnp.asarray(v) for k, v in inputs.items()}

  def _discriminate(self, d_params, d_state, x):
    """Patch logits in float32 (objectives reduce them over examples and patches)."""
    logits, d_state = _apply(self.discriminator, d_params, d_state, x, train=True)
    return logits.astype(jnp.float32), d_state

  def sample(self, g_params, g_state, extras, rng, n, *, ema=False):
    """G(x) for n test inputs x drawn at random from the fixed set: samples of domain Y."""
    del extras, ema  # build() refuses EMA weights with a BatchNorm generator
    index = jax.random.randint(rng, (n,), 0, self.inputs['x'].shape[0])
    return self.translate(g_params, g_state, self.constrain(self.inputs['x'][index]))


class CycleGAN(_Translation):
  """Unpaired translation (Zhu et al. 2017): G: X -> Y, F: Y -> X against D_Y and D_X.

  g params {'G', 'F'}, d params {'D_X', 'D_Y'}; extras hold the two image pools (generated x's
  for D_X, generated y's for D_Y) as fixed-size arrays with fill counts, updated in d_loss.
  """

  def __init__(self, generator, discriminator, *, objective='least_squares', cycle_weight=10.0,
               identity_weight=0.5, adversarial_weight=1.0, pool_size=50, source=None,
               penalty='none', constrain=lambda x: x):
    self.generator, self.discriminator = generator, discriminator
    self.objective = objectives.get_objective(objective)
    if cycle_weight < 0 or identity_weight < 0 or pool_size < 0:
      raise ValueError(f'cycle_weight, identity_weight and pool_size must be >= 0; got '
                       f'{cycle_weight}, {identity_weight}, {pool_size}.')
    self.cycle_weight, self.identity_weight = cycle_weight, identity_weight
    self.adversarial_weight, self.pool_size = adversarial_weight, int(pool_size)
    self.constrain = constrain
    self._check_and_keep_inputs(source, penalty)

  @classmethod
  def from_config(cls, config, generator, discriminator, constrain=lambda x: x, source=None):
    return cls(generator, discriminator, objective=config.objective,
               cycle_weight=config.get('cycle_weight', 10.0),
               identity_weight=config.get('identity_weight', 0.5),
               adversarial_weight=config.get('adversarial_weight', 1.0),
               pool_size=config.get('pool_size', 50), source=source, penalty=config.penalty,
               constrain=constrain)

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
    return _apply(self.generator, g_params[direction], _pick(g_state, direction), images,
                  train=False)[0]

  def _generate(self, g_params, g_state, name, images, rng):
    out, new = _apply(self.generator, g_params[name], _pick(g_state, name), images, train=True,
                      rng=rng)
    return out, _put(g_state, name, new)

  def d_loss(self, d_params, d_state, g_params, g_state, extras, batch, rng, regularize):
    del regularize  # no discriminator penalty in this game
    x, y = batch['x'], batch['y']
    keys = jax.random.split(rng, 4)
    fake_y = jax.lax.stop_gradient(self._generate(g_params, g_state, 'G', x, keys[0])[0])
    fake_x = jax.lax.stop_gradient(self._generate(g_params, g_state, 'F', y, keys[1])[0])
    # D updates see images from the history pool, not only the latest generator's (section 4).
    fake_y, pool_y, count_y = image_pool_query(extras['pool_y'], extras['pool_y_count'],
                                               fake_y, keys[2])
    fake_x, pool_x, count_x = image_pool_query(extras['pool_x'], extras['pool_x_count'],
                                               fake_x, keys[3])
    extras = {'pool_x': pool_x, 'pool_x_count': count_x, 'pool_y': pool_y,
              'pool_y_count': count_y}
    losses, real_means, fake_means = {}, [], []
    for name, real, fake in (('D_X', x, fake_x), ('D_Y', y, fake_y)):
      state = _pick(d_state, name)
      real_logits, state = self._discriminate(d_params[name], state, real)
      fake_logits, state = self._discriminate(d_params[name], state, fake)
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
    logits_y, _ = self._discriminate(d_params['D_Y'], _pick(d_state, 'D_Y'), fake_y)
    logits_x, _ = self._discriminate(d_params['D_X'], _pick(d_state, 'D_X'), fake_x)
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


class Pix2Pix(_Translation):
  """Paired translation (Isola et al. 2017): G(x) against a PatchGAN on concat(x, image), plus
  l1_weight * E|G(x) - y|_1."""

  def __init__(self, generator, discriminator, *, objective='nonsaturating', l1_weight=100.0,
               source=None, penalty='none', constrain=lambda x: x):
    self.generator, self.discriminator = generator, discriminator
    self.objective = objectives.get_objective(objective)
    if l1_weight < 0:
      raise ValueError(f'l1_weight must be >= 0; got {l1_weight}.')
    self.l1_weight, self.constrain = l1_weight, constrain
    self._check_and_keep_inputs(source, penalty)

  @classmethod
  def from_config(cls, config, generator, discriminator, constrain=lambda x: x, source=None):
    return cls(generator, discriminator, objective=config.objective,
               l1_weight=config.get('l1_weight', 100.0), source=source, penalty=config.penalty,
               constrain=constrain)

  def init(self, rng, x):
    g_rng, d_rng = jax.random.split(rng)
    g_variables = self.generator.init({'params': g_rng, 'dropout': g_rng}, x, train=False)
    d_variables = self.discriminator.init(d_rng, jnp.concatenate([x, x], axis=-1), train=False)
    return g_variables, d_variables, {}

  def translate(self, g_params, g_state, images, direction='G'):
    """G(images) in inference mode (dropout off)."""
    if direction != 'G':
      raise ValueError(f"pix2pix has one generator: direction must be 'G'; got {direction!r}.")
    return _apply(self.generator, g_params, g_state, images, train=False)[0]

  def d_loss(self, d_params, d_state, g_params, g_state, extras, batch, rng, regularize):
    del regularize
    x, y = batch['x'], batch['y']
    fake = jax.lax.stop_gradient(_apply(self.generator, g_params, g_state, x, train=True,
                                        rng=rng)[0])
    real_logits, d_state = self._discriminate(d_params, d_state, jnp.concatenate([x, y], -1))
    fake_logits, d_state = self._discriminate(d_params, d_state,
                                              jnp.concatenate([x, fake.astype(x.dtype)], -1))
    loss = self.objective.d_loss(real_logits=real_logits, fake_logits=fake_logits)
    metrics = {'loss/d': loss, 'd/real_logit': jnp.mean(real_logits),
               'd/fake_logit': jnp.mean(fake_logits)}
    return loss, (d_state, extras, metrics)

  def g_loss(self, g_params, g_state, d_params, d_state, extras, batch, rng, regularize):
    del regularize
    x, y = batch['x'], batch['y']
    fake, g_state = _apply(self.generator, g_params, g_state, x, train=True, rng=rng)
    logits, _ = self._discriminate(d_params, d_state,
                                   jnp.concatenate([x, fake.astype(x.dtype)], -1))
    adversarial = self.objective.g_loss(fake_logits=logits)
    l1 = jnp.mean(jnp.abs(fake.astype(jnp.float32) - y))
    loss = adversarial + self.l1_weight * l1
    return loss, (g_state, extras, {'loss/g': loss, 'loss/g_adversarial': adversarial,
                                    'loss/l1': l1})


GAMES = {'unconditional': Unconditional, 'stylegan': StyleGAN, 'cyclegan': CycleGAN,
         'pix2pix': Pix2Pix}


def get_game(name: str):
  if name not in GAMES:
    raise ValueError(f'Unknown game {name!r}; valid games: {sorted(GAMES)}.')
  return GAMES[name]


def build(config, generator, discriminator, constrain=lambda x: x, source=None):
  """The game `config.game`, with its settings read from the config.

  Games with `takes_source` (image-to-image) also get the data source, for fixed test inputs.
  """
  cls = get_game(config.game)
  if getattr(cls, 'takes_source', False):
    if config.get('ema_decay', 0.0) > 0 and getattr(generator, 'norm', None) == 'batch':
      # Translations run G in inference mode, with running statistics that were measured on
      # the training weights, not on their average (Unconditional.sample).
      raise ValueError(f"config.ema_decay={config.ema_decay} with generator.norm='batch': the "
                       "EMA generator of a translation game would normalise with statistics of "
                       "other weights. Set generator.norm='instance' or config.ema_decay=0.")
    return cls.from_config(config, generator, discriminator, constrain, source=source)
  return cls.from_config(config, generator, discriminator, constrain)

"""Many small toy runs at once: the trainer's pure init and train step (train.Experiment's
init_fn and train_step_fn) under `vmap` over runs (seeds, datasets), `lax.scan` over steps, so one
compile serves every run of one configuration. The toy figures (figures/toy1d.py, optimal_d.py,
modes2d.py) train through it.

Each run r has its own initialisation, latents and data, all derived from (seed_r, step): the data
of a mixture are drawn inside the compiled scan (centres, weights and std are inputs, so runs on
different mixtures of the same dimension share the compile too).
"""
import dataclasses
import time

import jax
import jax.numpy as jnp
import numpy as np

from gan_research import train


@dataclasses.dataclass
class Mixtures:
  """Per-run Gaussian mixtures, padded to the same number of modes: centers [R, K, D],
  weights [R, K] (0 for padding), std [R]."""
  centers: np.ndarray
  weights: np.ndarray
  std: np.ndarray

  @classmethod
  def stack(cls, sources):
    """From data sources with `centers` and `std` (data.synthetic.Mixture), one per run."""
    k = max(len(s.centers) for s in sources)
    dim = sources[0].centers.shape[1]
    centers = np.zeros((len(sources), k, dim), np.float32)
    weights = np.zeros((len(sources), k), np.float32)
    for i, s in enumerate(sources):
      centers[i, :len(s.centers)] = s.centers
      weights[i, :len(s.centers)] = 1.0 / len(s.centers)
    return cls(centers, weights, np.array([s.std for s in sources], np.float32))


def sample_mixture(rng, centers, weights, std, shape):
  """Samples [*shape, D] of one equal-weight mixture (jax; padded modes have weight 0)."""
  mode_rng, noise_rng = jax.random.split(rng)
  modes = jax.random.categorical(mode_rng, jnp.log(weights), shape=shape)
  noise = jax.random.normal(noise_rng, shape + centers.shape[1:])
  return centers[modes] + std * noise


class ToyRuns:
  """R runs of one config (model, objective, pack, unroll_steps, ...), trained in lock-step.

  `seeds` [R] seed each run's initialisation, latents and data. `mixtures` (default: the config's
  dataset for every run) say what each run learns.
  """

  def __init__(self, config, seeds, mixtures: Mixtures = None):
    self.config = config
    self.experiment = train.build(config)
    self.seeds = np.asarray(seeds)
    if mixtures is None:
      mixtures = Mixtures.stack([self.experiment.source] * len(self.seeds))
    self.mixtures = jax.tree.map(jnp.asarray, dataclasses.asdict(mixtures))
    roots = jax.vmap(jax.random.key)(jnp.asarray(self.seeds))
    self._init_keys = jax.vmap(lambda k: jax.random.fold_in(k, 0))(roots)
    self._train_keys = jax.vmap(lambda k: jax.random.fold_in(k, 1))(roots)
    self._data_keys = jax.vmap(lambda k: jax.random.fold_in(k, 2))(roots)
    self._advance = {}
    self._sample = None
    self.compile_seconds = 0.0

  def init(self):
    """Stacked initial TrainStates, one per run."""
    return jax.jit(jax.vmap(self.experiment.init_fn()))(self._init_keys)

  def _make_advance(self, num_steps):
    config = self.config
    step_fn = self.experiment.train_step_fn()
    shape = (config.d_steps, config.batch_size)

    def run_one(state, train_key, data_key, mixture):
      def body(state, _):
        x = sample_mixture(jax.random.fold_in(data_key, state.step), mixture['centers'],
                           mixture['weights'], mixture['std'], shape)
        state, metrics = step_fn(state, {'x': x}, train_key)
        return state, metrics

      state, metrics = jax.lax.scan(body, state, None, length=num_steps)
      return state, jax.tree.map(lambda m: m[-1], metrics)

    return jax.jit(jax.vmap(run_one))

  def advance(self, states, num_steps: int):
    """Trains every run `num_steps` more steps; returns (states, last step's metrics [R])."""
    if num_steps == 0:
      return states, {}
    if num_steps not in self._advance:
      t0 = time.perf_counter()
      fn = self._make_advance(num_steps)
      self._advance[num_steps] = fn.lower(states, self._train_keys, self._data_keys,
                                          self.mixtures).compile()
      self.compile_seconds += time.perf_counter() - t0
    states, metrics = self._advance[num_steps](states, self._train_keys, self._data_keys,
                                               self.mixtures)
    return states, jax.device_get(metrics)

  def train(self, num_steps: int, chunk: int = 1000, states=None, after_chunk=None):
    """Initialises (unless `states` is given) and trains num_steps in chunks of one compile;
    `after_chunk(states, steps_done)` is called after every chunk but the last."""
    states = self.init() if states is None else states
    done = 0
    while done < num_steps:
      n = min(chunk, num_steps - done)
      states, _ = self.advance(states, n)
      done += n
      if after_chunk is not None and done < num_steps:
        after_chunk(states, done)
    return states

  def sample(self, states, num_samples: int, seed: int = 0):
    """[R, num_samples, *example_shape] numpy samples, from the EMA generator if there is one.

    Compiled once per num_samples (figures that sample during training call it repeatedly)."""
    if self._sample is None:
      game = self.experiment.game

      def sample_all(states, train_keys, seed, num_samples):
        def sample_one(state, train_key):
          key = jax.random.fold_in(train_key, 1000 + seed)
          return game.sample(state.sampling_params, state.g.state, state.extras, key,
                             num_samples, ema=state.has_ema)

        return jax.vmap(sample_one)(states, train_keys)

      self._sample = jax.jit(sample_all, static_argnums=3)
    return np.asarray(self._sample(states, self._train_keys, seed, num_samples), np.float32)

  def discriminator_logits(self, states, x):
    """D's logits [R, N] at points x [N, *example_shape] (unpacked D only)."""
    game = self.experiment.game

    @jax.jit
    @jax.vmap
    def logits_one(state):
      return game.discriminate(state.d.params, state.d.state, x)[0]

    return np.asarray(logits_one(states))


def mean_and_standard_error(values):
  """Mean and standard error of the mean over runs (axis 0); se = std (ddof=1) / sqrt(n)."""
  values = np.asarray(values, np.float64)
  n = values.shape[0]
  with np.errstate(invalid='ignore'):  # an infinite value (reverse KL without any good sample)
    se = values.std(axis=0, ddof=1) / np.sqrt(n) if n > 1 else np.zeros(values.shape[1:])
  return values.mean(axis=0), se

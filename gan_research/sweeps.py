"""Many small toy runs at once: the trainer's pure init and train step (train.Experiment's
init_fn and train_step_fn) under `vmap` over runs (seeds, datasets), a loop over steps inside one
compiled call, so one compile serves every run of one configuration, for any number of steps.
The toy figures (figures/toy1d.py, optimal_d.py, modes2d.py) and the playground train through it.

Each run r has its own initialisation, latents and data, all derived from (seed_r, step) exactly
as the trainer derives them (train._rngs, data.synthetic.batch_key), so run r is the run that
`python -m gan_research.main` trains from the same config and seed. The data of a mixture are drawn
inside the compiled loop (centres, mode count and std are inputs, so runs on different mixtures of
the same dimension share the compile too).
"""
import copy
import dataclasses
import threading
import time

import jax
import jax.numpy as jnp
import numpy as np

from gan_research import train
from gan_research.data import synthetic

sample_mixture = synthetic.sample_mixture


@dataclasses.dataclass
class Mixtures:
  """Per-run Gaussian mixtures, padded to the same number of modes: centers [R, K, D],
  num_modes [R] (the rows of centers in use), std [R]."""
  centers: np.ndarray
  num_modes: np.ndarray
  std: np.ndarray

  @classmethod
  def stack(cls, sources, num_rows=None):
    """From data sources with `centers` and `std` (data.synthetic.Mixture), one per run;
    centers padded to `num_rows` (default: the most modes among them)."""
    k = max([len(s.centers) for s in sources] + [num_rows or 0])
    dim = sources[0].centers.shape[1]
    centers = np.zeros((len(sources), k, dim), np.float32)
    for i, s in enumerate(sources):
      centers[i, :len(s.centers)] = s.centers
    return cls(centers, np.array([len(s.centers) for s in sources], np.int32),
               np.array([s.std for s in sources], np.float32))


class ToyRuns:
  """R runs of one config (model, objective, pack, unroll_steps, ...), trained in lock-step.

  `seeds` [R] seed each run's initialisation, latents and data. `mixtures` (default: the config's
  dataset for every run) say what each run learns. The compiled functions depend on neither the
  seeds nor the number of steps: `with_seeds` gives runs of other seeds that share them.
  """

  def __init__(self, config, seeds, mixtures: Mixtures = None):
    self.config = config
    self.experiment = train.build(config)
    if mixtures is None:
      mixtures = Mixtures.stack([self.experiment.source] * len(seeds))
    self.mixtures = jax.tree.map(jnp.asarray, dataclasses.asdict(mixtures))
    self._set_seeds(seeds)
    # Shared by with_seeds copies, which other threads may use (the playground's runs).
    self._compiled = {}
    self._timing = {'compile_seconds': 0.0}
    self._lock = threading.Lock()

  def _set_seeds(self, seeds):
    self.seeds = np.asarray(seeds)
    roots = jax.vmap(jax.random.key)(jnp.asarray(self.seeds))
    self._init_keys = jax.vmap(lambda k: jax.random.fold_in(k, 0))(roots)  # train._rngs' 'init'
    self._train_keys = jax.vmap(lambda k: jax.random.fold_in(k, 1))(roots)  # ... 'train'
    self._data_keys = jax.vmap(synthetic.data_key)(jnp.asarray(self.seeds))

  def with_seeds(self, seeds, mixtures: Mixtures = None):
    """The same config's runs for other seeds (and mixtures of the same shapes), sharing this
    object's compiled functions: no recompile."""
    other = copy.copy(self)
    other._set_seeds(seeds)
    if mixtures is not None:
      other.mixtures = jax.tree.map(jnp.asarray, dataclasses.asdict(mixtures))
    if len(other.seeds) != len(other.mixtures['std']):
      raise ValueError(f'{len(other.seeds)} seeds for {len(other.mixtures["std"])} mixtures.')
    return other

  @property
  def compile_seconds(self):
    return self._timing['compile_seconds']

  @property
  def num_compiles(self):
    """Functions compiled so far by this object and its with_seeds copies."""
    return len(self._compiled)

  def _compile(self, name, make, *args):
    with self._lock:
      if name not in self._compiled:
        t0 = time.perf_counter()
        self._compiled[name] = make().lower(*args).compile()
        self._timing['compile_seconds'] += time.perf_counter() - t0
      return self._compiled[name]

  def init(self):
    """Stacked initial TrainStates, one per run."""
    init = self._compile('init', lambda: jax.jit(jax.vmap(self.experiment.init_fn())),
                         self._init_keys)
    return init(self._init_keys)

  def _make_advance(self):
    config = self.config
    step_fn = self.experiment.train_step_fn()
    shape = (config.d_steps, config.batch_size)

    def run_one(state, train_key, data_key, mixture, num_steps):
      def batch(state):
        x = sample_mixture(synthetic.batch_key(data_key, state.step), mixture['centers'],
                           mixture['num_modes'], mixture['std'], shape)
        return {'x': x}

      def body(_, carry):
        return step_fn(carry[0], batch(carry[0]), train_key)

      # A loop whose length is an input: one compile serves every number of steps.
      _, metric_shapes = jax.eval_shape(step_fn, state, batch(state), train_key)
      metrics = jax.tree.map(lambda m: jnp.zeros(m.shape, m.dtype), metric_shapes)
      return jax.lax.fori_loop(0, num_steps, body, (state, metrics))

    return jax.jit(jax.vmap(run_one, in_axes=(0, 0, 0, 0, None)))

  def advance(self, states, num_steps: int):
    """Trains every run `num_steps` more steps; returns (states, last step's metrics [R])."""
    if num_steps == 0:
      return states, {}
    args = (states, self._train_keys, self._data_keys, self.mixtures, jnp.int32(num_steps))
    states, metrics = self._compile('advance', self._make_advance, *args)(*args)
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
    game = self.experiment.game

    def make():
      def sample_all(states, train_keys, seed):
        def sample_one(state, train_key):
          key = jax.random.fold_in(train_key, 1000 + seed)
          return game.sample(state.sampling_params, state.g.state, state.extras, key,
                             num_samples, ema=state.has_ema)

        return jax.vmap(sample_one)(states, train_keys)

      return jax.jit(sample_all)

    args = (states, self._train_keys, jnp.int32(seed))
    fn = self._compile(('sample', num_samples), make, *args)
    return np.asarray(fn(*args), np.float32)

  def discriminator_logits(self, states, x):
    """D's logits [R, N] at points x [N, *example_shape] (unpacked D only); compiled once per
    shape of x."""
    game = self.experiment.game

    def make():
      return jax.jit(jax.vmap(lambda state, x: game.discriminate(state.d.params, state.d.state,
                                                                 x)[0], in_axes=(0, None)))

    x = jnp.asarray(x)
    args = (states, x)
    return np.asarray(self._compile(('logits', x.shape), make, *args)(*args))


def mean_and_standard_error(values):
  """Mean and standard error of the mean over runs (axis 0); se = std (ddof=1) / sqrt(n)."""
  values = np.asarray(values, np.float64)
  n = values.shape[0]
  with np.errstate(invalid='ignore'):  # an infinite value (reverse KL without any good sample)
    se = values.std(axis=0, ddof=1) / np.sqrt(n) if n > 1 else np.zeros(values.shape[1:])
  return values.mean(axis=0), se

"""train_and_evaluate(config, workdir): the one training loop every experiment runs.

Builds the data source, the game and the optimisers from the config by name, resumes from the
workdir's latest checkpoint, and runs the jitted train step, with logging, sample grids,
checkpoints and evaluators on their schedules.
"""
import dataclasses
import functools
import os
import time
from typing import Any

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from absl import logging

from gan_research import checkpoints, compiler, config_lib, data, games, metrics, models
from gan_research import optimizers, packing, parallel, plots, preemption, steps, train_state
from gan_research import writers
from gan_research.data.pipeline import Prefetcher


@dataclasses.dataclass
class Experiment:
  """Everything built from a config: the pieces the loop, figures and evaluators share."""
  config: ml_collections.ConfigDict
  mesh: jax.sharding.Mesh
  source: Any
  game: Any
  tx_g: Any
  tx_d: Any

  @property
  def example_shape(self):
    return tuple(self.source.example_shape)

  def init_fn(self):
    """The pure, un-jitted init: rng -> TrainState (jitted here, vmapped over seeds by sweeps)."""
    x = jnp.zeros((self.config.batch_size,) + self.example_shape, jnp.float32)

    def init(rng):
      g_vars, d_vars, extras = self.game.init(rng, x)
      return train_state.create(g_vars, d_vars, extras, self.tx_g, self.tx_d,
                                use_ema=self.config.ema_decay > 0)

    return init

  def init_state(self, rng) -> train_state.TrainState:
    """The initial TrainState, replicated over the mesh."""
    return jax.jit(self.init_fn(), out_shardings=parallel.replicated(self.mesh))(rng)

  def abstract_state(self):
    """Shapes, dtypes and (replicated) shardings of the TrainState, without computing it.

    The shardings make a restore lay the arrays out on this process's mesh, whatever topology
    wrote the checkpoint (Orbax refuses to guess when a multi-host run wrote it).
    """
    sharding = parallel.replicated(self.mesh)
    return jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=sharding),
                        jax.eval_shape(self.init_state, jax.random.key(0)))

  def train_step_fn(self):
    """The pure, un-jitted step (state, batch, rng) -> (state, metrics) of this config.

    The one place the config's training fields reach `steps.make_train_step`: the loop jits it
    (make_train_step), the toy sweeps vmap and scan it (gan_research.sweeps).
    """
    config = self.config
    return steps.make_train_step(self.game, self.tx_g, self.tx_d, d_steps=config.d_steps,
                                 penalty_every=config.penalty_every,
                                 g_penalty_every=config.g_penalty_every,
                                 d_weight_clip=config.d_weight_clip, ema_decay=config.ema_decay,
                                 unroll_steps=config.unroll_steps)

  def make_train_step(self):
    """train_step_fn jitted with the mesh's shardings, donating the old state."""
    config = self.config
    step = self.train_step_fn()
    replicated = parallel.replicated(self.mesh)
    return jax.jit(step, donate_argnums=0,
                   in_shardings=(replicated, parallel.batch_sharding(self.mesh), replicated),
                   out_shardings=(replicated, replicated),
                   compiler_options=compiler.train_step_options(
                       config.cpu_conv_backend))

  def make_sampler(self, chunk_size=None):
    """sample_fn(state, rng, n, labels=None) -> numpy [n, *example_shape], from the EMA generator
    if any; `labels` (int [n]) picks the class of each sample (games with generates_classes).

    Works in fixed chunks so one compile serves every n. Games lay latents out like the data
    (split over processes); the samples come back replicated so every process can read them.
    """
    chunk = chunk_size or self.config.batch_size
    game = self.game

    @functools.partial(jax.jit, out_shardings=parallel.replicated(self.mesh))
    def sample_chunk(state, rng, labels):
      # float32 whatever config.compute_dtype is: samples are plotted, saved and evaluated.
      by_class = {} if labels is None else {'labels': labels}
      return game.sample(state.sampling_params, state.g.state, state.extras, rng, chunk,
                         ema=state.has_ema, **by_class).astype(jnp.float32)

    def sample_fn(state, rng, n, labels=None):
      keys = jax.random.split(rng, -(-n // chunk))
      if labels is None:
        parts = [sample_chunk(state, r, None) for r in keys]
      else:
        labels = self.check_labels(labels, n)
        labels = np.pad(labels, (0, len(keys) * chunk - n))  # the last chunk's tail is dropped
        parts = [sample_chunk(state, r, labels[i * chunk:(i + 1) * chunk])
                 for i, r in enumerate(keys)]
      return np.concatenate(jax.device_get(parts))[:n]

    return sample_fn

  def check_labels(self, labels, n) -> np.ndarray:
    """`labels` as int32 [n] of this run's classes; clear errors otherwise."""
    if not self.game.generates_classes:
      raise ValueError(f'Game {self.config.game!r} does not generate by class; samples by label '
                       "need a class-conditional game (config.game='conditional').")
    labels = np.asarray(labels)
    if labels.shape != (n,) or not np.issubdtype(labels.dtype, np.integer):
      raise ValueError(f'Expected one integer label per sample, [{n}]; got {labels.dtype} '
                       f'{labels.shape}.')
    k = self.source.num_classes
    if labels.size and (labels.min() < 0 or labels.max() >= k):
      raise ValueError(f'Label {int(labels[(labels < 0) | (labels >= k)][0])} is out of range: '
                       f'this run has {k} classes, labels 0..{k - 1}.')
    return labels.astype(np.int32)


def build(config, mesh=None) -> Experiment:
  config_lib.validate(config)
  mesh = mesh or parallel.make_mesh()
  parallel.check_batch_size(config.batch_size, mesh)
  source = data.get_source(config, needs_labels=games.get_game(config.game).needs_labels)
  generator, discriminator = models.build(config, source.example_shape)
  discriminator = packing.pack_discriminator(discriminator, config.pack)
  game = games.build(config, generator, discriminator,
                     constrain=lambda x: parallel.shard_examples(x, mesh), source=source)
  return Experiment(config, mesh, source, game, optimizers.make_optimizer(config.optimizer_g),
                    optimizers.make_optimizer(config.optimizer_d))


def restore(workdir, step=None):
  """(experiment, state) of a trained workdir, for figures and evaluation."""
  config = config_lib.load_json(os.path.join(workdir, 'config.json'))
  experiment = build(config)
  ckpt = checkpoints.Checkpointer(workdir)
  if ckpt.latest_step() is None:
    raise FileNotFoundError(f'No checkpoint in {ckpt.directory}: train first with '
                            f'python -m gan_research.main --workdir={workdir} ...')
  state = ckpt.restore(experiment.abstract_state(), step)
  ckpt.close()
  return experiment, state


def _rngs(seed):
  root = jax.random.key(seed)
  return {name: jax.random.fold_in(root, i)
          for i, name in enumerate(('init', 'train', 'samples', 'eval'))}


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str):
  """Trains (or resumes) the experiment `config` in `workdir`; returns the final TrainState.

  Call it on every process of a multi-host run. On SIGTERM it finishes the current step, saves a
  checkpoint and returns that step's state (a rerun resumes from it).
  """
  os.makedirs(workdir, exist_ok=True)
  experiment = build(config)
  is_main = jax.process_index() == 0
  if is_main:
    with open(os.path.join(workdir, 'config.json'), 'w') as f:
      f.write(config.to_json(indent=2))

  rngs = _rngs(config.seed)
  ckpt = checkpoints.Checkpointer(workdir, config.keep_checkpoints)
  state = experiment.init_state(rngs['init'])
  # The newest checkpoint that verifies; damaged or unfinished newer ones are reported and set
  # aside (the run writes those steps again). None verifying stops here, touching nothing.
  restored = ckpt.restore_newest(state, set_aside=True)
  if restored is not None:
    state = restored[1]
    logging.info('Resumed from %s', ckpt.path(restored[0]))
  start, total = int(state.step), config.num_train_steps
  if start >= total:
    logging.info('Workdir is at step %d >= num_train_steps=%d: nothing to train. Raise '
                 '--config.num_train_steps to continue.', start, total)
    ckpt.close()
    return state

  train_step = experiment.make_train_step()
  sample_fn = experiment.make_sampler()
  evaluators = metrics.build_evaluators(config.evals, experiment.source, workdir)
  writer = writers.MetricWriter(workdir, start_step=start)  # drops rows a crash left past start
  batches = Prefetcher(experiment.source, start_step=start, d_steps=config.d_steps,
                       batch_size=config.batch_size,
                       sharding=parallel.batch_sharding(experiment.mesh))
  pending, window_start, window_steps = [], None, 0

  def flush(step):
    """Fetches the metrics of the steps since the last flush; stops on a non-finite value."""
    nonlocal pending, window_start, window_steps
    history = [(s, jax.device_get(m)) for s, m in pending]
    bad = writers.first_nonfinite(history)
    if bad:
      # Name a checkpoint known to be good: one this run finished writing or restored and
      # verified, not merely the newest folder (which may be damaged or unfinished).
      try:
        ckpt.wait()
      except checkpoints.CheckpointSaveError as e:
        logging.error('%s', e)
      last = ckpt.last_good_step()
      where = (f'the last good checkpoint is step {last} at {ckpt.path(last)}' if last is not None
               else 'no checkpoint was written yet')
      raise FloatingPointError(
          f'{bad[1]} became {bad[2]} at step {bad[0]}; stopped without saving: {where}. Lower '
          'the learning rates, add a penalty, or check the data; rerunning resumes from the '
          'last checkpoint.')
    if history:
      means = {k: float(np.mean([m[k] for _, m in history])) for k in history[0][1]}
      if window_start is not None and window_steps:
        means['steps_per_sec'] = window_steps / (time.perf_counter() - window_start)
      writer.write(step, means, echo=False)
      if is_main:
        logging.info('%s', progress_line(step, total, means))
    pending, window_start, window_steps = [], time.perf_counter(), 0

  def every(n, step):
    return (n > 0 and step % n == 0) or step == total

  stop = preemption.StopOnSignal(process_count=jax.process_count())
  stop.install()
  try:
    t0 = time.perf_counter()
    for step in range(start + 1, total + 1):
      state, step_metrics = train_step(state, next(batches), rngs['train'])
      pending.append((step, step_metrics))
      window_steps += 1
      if step == start + 1:
        jax.block_until_ready(state)
        logging.info('First step (compile + run) took %.1fs.', time.perf_counter() - t0)
        window_start, window_steps = time.perf_counter(), 0
      # SIGTERM (preemption): finish this step, check it is finite, checkpoint it, return.
      stopping = step < total and stop.should_stop(step)
      if (every(config.log_every_steps, step) or every(config.checkpoint_every_steps, step)
          or stopping):
        flush(step)
      if every(config.checkpoint_every_steps, step) or stopping:
        ckpt.save(step, state)
      if stopping:
        ckpt.wait()
        logging.warning('Stopped by %s after step %d; saved %s. Rerun the same command to '
                        'resume.', stop.received or 'another process', step, ckpt.path(step))
        break
      if every(config.sample_every_steps, step):  # sampling is collective; process 0 saves
        _write_samples(experiment, sample_fn, state, rngs['samples'], workdir, step, is_main)
      due = {name: ev for name, (n, ev) in evaluators.items() if every(n, step)}
      if due:
        ctx = metrics.make_context(experiment, state, sample_fn, rngs['eval'], workdir)
        writer.write(step, metrics.run_evaluators(due.values(), ctx))
  finally:
    stop.restore()
    batches.close()
    writer.close()
    ckpt.close()  # waits for the save in flight; CheckpointSaveError if the disk refused it
  return state


def progress_line(step, total, means) -> str:
  """'step 1200/5000 (24%), 4.9 steps/s, ETA 12m55s, loss/d 1.32, loss/g 0.81'.

  The rate is means['steps_per_sec'] (the steps since the last log line over their wall time,
  sampling and evaluation included); before there is one (the first, compiling step) the rate and
  ETA are left out.
  """
  parts = [f'step {step}/{total} ({100 * step // total}%)']
  rate = means.get('steps_per_sec')
  if rate:
    parts.append(f'{rate:.3g} steps/s, ETA {format_duration((total - step) / rate)}')
  parts += [f'{name} {means[name]:.4g}' for name in ('loss/d', 'loss/g') if name in means]
  return ', '.join(parts)


def format_duration(seconds: float) -> str:
  """45s, 12m55s, 3h05m: a countdown to read at a glance."""
  seconds = int(round(seconds))
  hours, rest = divmod(seconds, 3600)
  minutes, seconds = divmod(rest, 60)
  if hours:
    return f'{hours}h{minutes:02d}m'
  return f'{minutes}m{seconds:02d}s' if minutes else f'{seconds}s'


def _write_samples(experiment, sample_fn, state, rng, workdir, step, save):
  n = 64 if len(experiment.example_shape) == 3 else 2500
  samples = sample_fn(state, rng, n)
  if not save:
    return
  path = os.path.join(workdir, 'samples', f'step_{step:06d}.png')
  plots.save_samples(path, samples, experiment.source, title=f'step {step}')

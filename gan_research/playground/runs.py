"""Playground runs: each a thread training one toy GAN through sweeps.ToyRuns (the trainer's own
init and step, many steps per compiled call), publishing live snapshots the page polls.

`Trainers` keeps one ToyRuns per config up to the seed, the step count and the data of one
dimension: those are inputs of the compiled functions, so a new run that changes only them
compiles nothing. Each run has its own state and its own keys, so concurrent runs (two browser
tabs) are independent; the compiled functions they share are pure.
"""
import json
import os
import threading
import time
import uuid

import jax
import numpy as np

from gan_research import checkpoints, sweeps, writers
from gan_research.figures import optimal_d, toy1d
from gan_research.metrics import mode_statistics
from gan_research.playground import settings as settings_lib

NUM_SAMPLES = {1: 5000, 2: 2500}  # toy1d's and modes2d's sample counts
GRID_1D = np.linspace(-6.0, 6.0, 241, dtype=np.float32)  # covers every gauss1d mixture +- 3 std
HISTOGRAM_BINS = np.linspace(-6.0, 6.0, 97)
SCATTER_POINTS = 1000  # of the samples, sent to the page
SECONDS_PER_CALL = 0.15  # steps per compiled call are adapted to about this
MIN_LOSS_POINTS = 50  # calls per run at least, so the loss curve has points
SNAPSHOT_SECONDS = 0.3  # between samples + D curve for the page


class Trainers:
  """ToyRuns by config (seed, steps and the data of one dimension excluded): one compile each."""

  def __init__(self):
    self._runs = {}
    self._lock = threading.Lock()

  @staticmethod
  def _key(s: settings_lib.Settings):
    shared = settings_lib.Settings(**{**s.__dict__, 'seed': 0, 'steps': 1,
                                      'data': 'bimodal' if s.dim == 1 else 'ring8'})
    return json.dumps(settings_lib.config_for(shared).to_dict(), sort_keys=True, default=str)

  def runs_for(self, s: settings_lib.Settings) -> sweeps.ToyRuns:
    mixtures = sweeps.Mixtures.stack([settings_lib.source(s.data)],
                                     num_rows=settings_lib.num_rows(s))
    with self._lock:
      key = self._key(s)
      if key not in self._runs:
        self._runs[key] = sweeps.ToyRuns(settings_lib.config_for(s), [s.seed], mixtures)
      return self._runs[key].with_seeds([s.seed], mixtures)

  @property
  def num_compiles(self):
    with self._lock:
      return sum(r.num_compiles for r in self._runs.values())


class Run:
  """One training run in its own thread; `view(since)` is what the page polls."""

  def __init__(self, s: settings_lib.Settings, trainers: Trainers):
    self.id = uuid.uuid4().hex[:10]
    self.settings = s
    self.config = settings_lib.config_for(s)
    self.source = settings_lib.source(s.data)
    self.status = 'starting'
    self.error = None
    self.step = 0
    self.losses = []  # [step, loss/d, loss/g] after each compiled call
    self.modes_history = []  # 2-D: [step, captured, high_quality] at each snapshot
    self.snapshot = None
    self.result = None
    self.seconds = None  # wall time of the run, compiles included
    self.compile_seconds = None  # of the compiles this run waited for (none if it reused them)
    self.saved = None
    self._trainers = trainers
    self._runs = None
    self._states = None
    self._stop = threading.Event()
    self._lock = threading.Lock()
    self._thread = threading.Thread(target=self._train, daemon=True)

  def start(self):
    self._thread.start()
    return self

  def stop(self):
    self._stop.set()

  def wait(self, timeout=None):
    self._thread.join(timeout)
    return not self._thread.is_alive()

  def _train(self):
    try:
      t0 = time.perf_counter()
      self._runs = self._trainers.runs_for(self.settings)
      compiled_before = self._runs.compile_seconds
      states = self._runs.init()
      with self._lock:
        self.status = 'running'
      total, last_snapshot = self.settings.steps, 0.0
      max_chunk = max(10, total // MIN_LOSS_POINTS)
      chunk = min(10, max_chunk)
      while self.step < total and not self._stop.is_set():
        n = min(chunk, total - self.step)
        t_call = time.perf_counter()
        states, metrics = self._runs.advance(states, n)
        jax.block_until_ready(states)
        elapsed = time.perf_counter() - t_call
        # The step count is an input of the compiled loop: resizing the calls compiles nothing.
        chunk = int(np.clip(n * SECONDS_PER_CALL / max(elapsed, 1e-4), 1, max_chunk))
        d_loss, g_loss = (float(metrics[k][0]) for k in ('loss/d', 'loss/g'))
        with self._lock:
          self.step += n
          self.losses.append([self.step, d_loss, g_loss])
          self._states = states
        if not (np.isfinite(d_loss) and np.isfinite(g_loss)):
          raise FloatingPointError(
              f'The losses became non-finite (loss/d {d_loss}, loss/g {g_loss}) by step '
              f'{self.step}: lower the learning rates.')
        if time.perf_counter() - last_snapshot > SNAPSHOT_SECONDS or self.step == total:
          self._publish(states, final=False)
          last_snapshot = time.perf_counter()
      self._publish(states, final=True)
      with self._lock:
        self.seconds = time.perf_counter() - t0
        self.compile_seconds = self._runs.compile_seconds - compiled_before
        self.status = 'stopped' if self.step < total else 'done'
    except Exception as e:  # shown on the page; the server keeps serving
      with self._lock:
        self.status, self.error = 'error', f'{type(e).__name__}: {e}'

  def _publish(self, states, final):
    """Samples (toy1d's / modes2d's count, sample seed 0) and, in 1-D, D over the input range."""
    dim = self.settings.dim
    samples = self._runs.sample(states, NUM_SAMPLES[dim])[0]
    centers, std = self.source.centers, self.source.std
    if dim == 1:
      snapshot, result = self._snapshot_1d(states, samples[:, 0])
    else:
      stats = mode_statistics(samples, centers, std)
      snapshot = {'samples': samples[:SCATTER_POINTS].round(4).tolist(),
                  'centers': centers.tolist(), 'stats': stats}
      result = {'modes_captured': stats['captured'], 'num_modes': len(centers),
                'high_quality': stats['high_quality'], 'reverse_kl': stats['reverse_kl']}
    with self._lock:
      self.snapshot = dict(snapshot, step=self.step)
      if dim == 2:
        self.modes_history.append([self.step, stats['captured'], stats['high_quality']])
      if final:
        self.result = dict(result, step=self.step)

  def _snapshot_1d(self, states, samples):
    xs = GRID_1D
    p_data = self.source.density(xs)
    p_g = optimal_d.gaussian_kde(samples, xs)
    hist, _ = np.histogram(samples, HISTOGRAM_BINS, density=True)
    snapshot = {'x': xs.round(4).tolist(), 'p_data': p_data.round(5).tolist(),
                'p_g': p_g.round(5).tolist(), 'hist': hist.round(5).tolist(),
                'bins': HISTOGRAM_BINS.round(4).tolist(),
                'd_star': optimal_d.optimal_discriminator(p_data, p_g).round(5).tolist()}
    if self.settings.pack == 1:  # a packed D judges m samples at once: no D(x) of one x
      logits = self._runs.discriminator_logits(states, xs[:, None])[0]
      snapshot['d'] = (1.0 / (1.0 + np.exp(-logits))).round(5).tolist()
    covered = toy1d.covered_modes(samples, self.source.centers, self.source.std)
    return snapshot, {'modes_covered': covered, 'num_modes': len(self.source.centers)}

  def view(self, since=0):
    """The run as the page shows it; `since` skips loss rows the page already has."""
    with self._lock:
      return {'id': self.id, 'status': self.status, 'error': self.error, 'step': self.step,
              'total': self.settings.steps, 'settings': self.settings.__dict__,
              'losses': self.losses[since:], 'num_losses': len(self.losses),
              'modes_history': list(self.modes_history), 'snapshot': self.snapshot,
              'result': self.result, 'seconds': self.seconds,
              'compile_seconds': self.compile_seconds, 'saved': self.saved}

  def save(self, workdir):
    """Writes a normal workdir: config.json, the checkpoint of the last step, metrics.jsonl;
    `command` retrains it with the trainer's loop."""
    with self._lock:
      if self.status in ('starting', 'running'):
        raise ValueError('The run is still training: stop it or wait for it to finish, then save.')
      if self._states is None:
        raise ValueError(f'The run has no trained state to save (status {self.status}).')
      states, step, losses = self._states, self.step, list(self.losses)
    if os.path.exists(os.path.join(workdir, 'config.json')):
      raise ValueError(f'{workdir} already holds a run; choose another name.')
    os.makedirs(workdir, exist_ok=True)
    config = settings_lib.config_for(self.settings)
    config.num_train_steps = step  # a stopped run is saved as the run of that many steps
    with open(os.path.join(workdir, 'config.json'), 'w') as f:
      f.write(config.to_json(indent=2))
    ckpt = checkpoints.Checkpointer(workdir)
    ckpt.save(step, jax.tree.map(lambda x: x[0], states))
    ckpt.close()
    writer = writers.MetricWriter(workdir)
    for row_step, d_loss, g_loss in losses:
      writer.write(row_step, {'loss/d': d_loss, 'loss/g': g_loss}, echo=False)
    writer.close()
    saved_settings = settings_lib.Settings(**{**self.settings.__dict__, 'steps': step})
    with self._lock:
      self.saved = {'workdir': workdir,
                    'command': settings_lib.command(saved_settings, workdir + '_again')}
      return self.saved

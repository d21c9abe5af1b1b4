"""Mode collapse on the 2-D ring of 8 and grid of 25 Gaussians: the protocol of PacGAN (Lin et al.
2018, Table 1), with plain GAN, PacGAN2-4, unrolled GAN (Metz et al. 2017, k = 5) and minibatch
discrimination (Salimans et al. 2016), 10 seeds each, trained together under vmap.

python -m gan_research.figures modes2d --workdir=DIR [--options=num_steps=1500,seeds=10]
writes DIR/modes2d.csv, DIR/modes2d.md (ours beside the published rows), DIR/modes2d_samples.npz
and DIR/figures/modes2d.png (seed 0's samples per method). Per run: 2,500 samples; high quality =
within 3 std of the nearest mode; modes captured; reverse KL of the mode histogram to uniform
(metrics.mode_statistics). Every method uses the same G, D and optimiser (`base_config`); only
`pack`, `unroll_steps` or D's minibatch layer change, and the unrolled rows train for
`num_steps_unrolled` steps (default 1,000) to keep the command's time in budget. Packing keeps the
batch: D sees batch_size / m packed inputs.

`--options=arch=paper` trains the networks and optimiser of PacGAN's released 2-D experiments
instead (G 4 x 400 ReLU + BatchNorm, D 3 x 200 maxout with 5 pieces, weights N(0, 0.02^2), Adam
1e-4 with beta1 0.8 at a constant rate, no EMA, 100 packed inputs per D batch so m x 100 samples,
400 epochs of 100k samples = 400,000 steps): `paper_config`. It is a GPU-sized protocol (see
docs/toys.md); `num_steps` and `learning_rate` shorten it.
"""
import csv
import os
import time

import numpy as np

from gan_research import config_lib, sweeps
from gan_research.figures import toy_plots
from gan_research.metrics import mode_statistics

METHODS = ('gan', 'pacgan2', 'pacgan3', 'pacgan4', 'unrolled5', 'minibatch')
DATASETS = ('ring8', 'grid25')
ARCHS = ('small', 'paper')
COLUMNS = ('dataset', 'method', 'modes_mean', 'modes_se', 'high_quality_mean',
           'high_quality_se', 'reverse_kl_mean', 'reverse_kl_se')

# Lin et al. 2018, Table 1 (mean +- standard error; high quality as a fraction) for GAN,
# minibatch discrimination and PacGAN; VEEGAN (Srivastava et al. 2017, Table 1) for unrolled GAN,
# which reports neither standard errors nor reverse KL (None). Architectures differ from ours
# (G: 4 x 400 ReLU + BatchNorm, D: 3 x 200 maxout-5, 400 epochs of 100k samples), see docs/toys.md.
# The means of the GAN and PacGAN2-4 rows are checked against PacGAN's Table 1 (the image
# synthetic_data_experiments/results/Table1.png in the authors' repository). Their standard errors,
# the minibatch rows and the unrolled rows were recalled, not read from a source: check those
# before quoting them.
PUBLISHED_NOTE = ('PacGAN Table 1, means of the GAN and PacGAN rows checked; standard errors, '
                  'minibatch and unrolled rows unverified')
PUBLISHED = {
    ('ring8', 'gan'): (6.3, 0.5, 0.982, 0.002, 0.45, 0.09),
    ('ring8', 'pacgan2'): (7.9, 0.1, 0.956, 0.020, 0.07, 0.03),
    ('ring8', 'pacgan3'): (7.8, 0.1, 0.977, 0.003, 0.10, 0.02),
    ('ring8', 'pacgan4'): (7.8, 0.1, 0.959, 0.014, 0.07, 0.02),
    ('ring8', 'unrolled5'): (7.6, None, 0.356, None, None, None),
    ('ring8', 'minibatch'): (4.3, 0.8, 0.366, 0.088, 1.93, 0.11),
    ('grid25', 'gan'): (17.3, 0.8, 0.948, 0.007, 0.70, 0.07),
    ('grid25', 'pacgan2'): (23.8, 0.7, 0.913, 0.008, 0.13, 0.04),
    ('grid25', 'pacgan3'): (24.6, 0.4, 0.942, 0.004, 0.06, 0.02),
    ('grid25', 'pacgan4'): (24.8, 0.2, 0.936, 0.006, 0.04, 0.01),
    ('grid25', 'unrolled5'): (23.6, None, 0.16, None, None, None),
    ('grid25', 'minibatch'): (24.1, 0.4, 0.899, 0.020, 0.21, 0.06),
}


NUM_STEPS = 1500
NUM_STEPS_UNROLLED = 1000
WIDTH = 64
BATCH_SIZE = 240
LEARNING_RATE = 2e-3
EMA_DECAY = 0.995
DECAY_FRACTION = 0.7


def base_config(dataset, num_steps):
  """The shared toy set-up of every row (a CPU-sized cousin of experiments/toy_2d.py).

  Wide nets and a large batch cost little more per step than small ones on the CPU (the step is
  dominated by per-op overhead), so the budget goes into width and batch rather than steps.
  Both learning rates decay linearly to 0 over the last DECAY_FRACTION of the run and G is
  sampled from its EMA: this is what concentrates the samples within 3 std of the modes in a
  short run (constant-lr runs of the same length leave them spread between the modes).
  """
  c = config_lib.base_config()
  c.dataset = dataset
  c.model = 'mlp'
  c.generator = {'latent_dim': 2, 'hidden_sizes': (WIDTH,) * 3, 'activation': 'relu'}
  c.discriminator = {'hidden_sizes': (WIDTH,) * 3, 'activation': 'leaky_relu'}
  c.objective = 'nonsaturating'
  c.batch_size = BATCH_SIZE  # divisible by packs 2, 3 and 4
  c.num_train_steps = num_steps
  c.optimizer_g = config_lib.adam(LEARNING_RATE, 0.5, 0.999, schedule='linear_decay')
  c.optimizer_d = config_lib.adam(LEARNING_RATE, 0.5, 0.999, schedule='linear_decay')
  for opt in (c.optimizer_g, c.optimizer_d):
    # Schedules count each player's own updates: one per step for both (d_steps = 1).
    opt.decay_steps = num_steps
    opt.decay_start_steps = int(num_steps * (1 - DECAY_FRACTION))
  # Unrolling differentiates through D's Adam: keep sqrt(v) differentiable where v = 0.
  c.optimizer_d.eps_root = 1e-16
  c.ema_decay = EMA_DECAY
  return c


# PacGAN's released 2-D configs (synthetic_data_experiments/2D{Ring,Grid}_GAN&PacGAN/config.py
# in the authors' repository): 400 epochs over 100,000 samples in batches of 100.
PAPER_NUM_STEPS = 400 * 100_000 // 100
PAPER_BATCH = 100  # packed inputs per D batch (the released code packs m x 100 samples)
PAPER_LEARNING_RATE = 1e-4


def paper_config(dataset, num_steps, learning_rate=PAPER_LEARNING_RATE):
  """PacGAN's 2-D set-up: G 4 x 400 ReLU with BatchNorm (no hidden biases), D 3 x 200 maxout with
  5 pieces, every weight N(0, 0.02^2) and biases 0, non-saturating loss, Adam (beta1 0.8) at a
  constant rate, no EMA. `method_config` sets the batch to PAPER_BATCH packed inputs.

  Differences that remain: the released code draws batches from a fixed set of 100,000 samples
  (here every batch is fresh) and its BatchNorm averages population statistics with momentum
  0.95 (flax: 0.9).
  """
  c = base_config(dataset, num_steps)
  c.generator = {'latent_dim': 2, 'hidden_sizes': (400,) * 4, 'activation': 'relu',
                 'norm': 'batch', 'init_std': 0.02}
  c.discriminator = {'hidden_sizes': (200,) * 3, 'maxout_pieces': 5, 'init_std': 0.02}
  c.batch_size = PAPER_BATCH
  c.optimizer_g = config_lib.adam(learning_rate, 0.8, 0.999)
  c.optimizer_d = config_lib.adam(learning_rate, 0.8, 0.999)
  c.optimizer_d.eps_root = 1e-16  # as base_config: the unrolled rows differentiate through Adam
  c.ema_decay = 0.0
  return c


def method_config(dataset, method, num_steps, arch='small', learning_rate=None):
  if arch == 'small':
    c = base_config(dataset, num_steps)
    if learning_rate is not None:
      c.optimizer_g.learning_rate = c.optimizer_d.learning_rate = float(learning_rate)
  elif arch == 'paper':
    c = paper_config(dataset, num_steps,
                     PAPER_LEARNING_RATE if learning_rate is None else float(learning_rate))
  else:
    raise ValueError(f'Unknown arch {arch!r}; valid archs: {list(ARCHS)}.')
  if method.startswith('pacgan'):
    c.pack = int(method.removeprefix('pacgan'))
    if arch == 'paper':
      c.batch_size = PAPER_BATCH * c.pack
  elif method.startswith('unrolled'):
    c.unroll_steps = int(method.removeprefix('unrolled'))
  elif method == 'minibatch':
    c.discriminator.minibatch_kernels = 5
    c.discriminator.minibatch_kernel_dim = 3
  elif method != 'gan':
    raise ValueError(f'Unknown method {method!r}; valid methods: {list(METHODS)}.')
  return c


def evaluate(samples, centers, std):
  """Per-run statistics [R, 3] (modes, high quality, reverse KL) of samples [R, N, 2]."""
  rows = []
  for s in samples:
    stats = mode_statistics(s, centers, std)
    rows.append((stats['captured'], stats['high_quality'], stats['reverse_kl']))
  return np.array(rows, np.float64)


def _summary(stats):
  """One line of mean ± standard error (and the worst seed) of evaluate()'s [R, 3] statistics."""
  mean, se = sweeps.mean_and_standard_error(stats)
  return (f'modes {mean[0]:.2f} ± {se[0]:.2f} (min {stats[:, 0].min():.0f}), high quality '
          f'{mean[1]:.3f} ± {se[1]:.3f} (min {stats[:, 1].min():.3f}), reverse KL {mean[2]:.3f} ± '
          f'{se[2]:.3f}')


def _fmt(mean, se, digits):
  if mean is None:
    return '-'
  return f'{mean:.{digits}f}' + (f' ± {se:.{digits}f}' if se is not None else '')


def write_markdown(path, rows, num_seeds, arch='small'):
  """Ours beside the published rows; `rows` carry the CSV columns plus `steps`."""
  lines = [(f'Ours (arch={arch}): mean ± standard error over {num_seeds} seeds, 2,500 samples per '
            'run. '
            f'Published ({PUBLISHED_NOTE}; unrolled: VEEGAN Table 1, no errors).'),
           '',
           ('| dataset | method | steps | modes (ours) | modes (published) | '
            'high quality (ours) | high quality (published) | reverse KL (ours) | '
            'reverse KL (published) |'),
           '|---|---|---|---|---|---|---|---|---|']
  for r in rows:
    pub = PUBLISHED.get((r['dataset'], r['method']), (None,) * 6)
    lines.append(
        f"| {r['dataset']} | {r['method']} | {r['steps']} | "
        f"{_fmt(r['modes_mean'], r['modes_se'], 1)} | {_fmt(pub[0], pub[1], 1)} | "
        f'{_fmt(r["high_quality_mean"], r["high_quality_se"], 3)} | {_fmt(pub[2], pub[3], 3)} | '
        f'{_fmt(r["reverse_kl_mean"], r["reverse_kl_se"], 3)} | {_fmt(pub[4], pub[5], 2)} |')
  with open(path, 'w') as f:
    f.write('\n'.join(lines) + '\n')


def run(workdir, *, step=None, seed=0, num_samples=2500, num_steps=None, seeds=10,
        methods=None, datasets=None, num_steps_unrolled=None, arch='small', learning_rate=None,
        log_every=0):
  """Trains every (dataset, method) for `seeds` seeds; writes the CSV, Markdown and figure.

  `num_steps` defaults to NUM_STEPS (arch 'small') or PAPER_NUM_STEPS (arch 'paper').
  `num_steps_unrolled` (default min(num_steps, NUM_STEPS_UNROLLED)) shortens the unrolled rows,
  which cost several times a plain row per step (k + 1 D passes and their backward pass).
  `learning_rate` overrides both players' Adam rate. `log_every` > 0 prints every row's statistics
  every that many steps (and trains in chunks of that many steps between prints).
  """
  del step  # trains from scratch; `num_steps` sets the length
  if arch not in ARCHS:
    raise ValueError(f'Unknown arch {arch!r}; valid archs: {list(ARCHS)}.')
  num_steps = int(num_steps if num_steps is not None
                  else PAPER_NUM_STEPS if arch == 'paper' else NUM_STEPS)
  num_steps_unrolled = int(min(num_steps, NUM_STEPS_UNROLLED) if num_steps_unrolled is None
                           else num_steps_unrolled)
  methods = [m for m in str(methods).split(',') if m] if methods else list(METHODS)
  datasets = [d for d in str(datasets).split(',') if d] if datasets else list(DATASETS)
  for d in datasets:
    if d not in DATASETS:
      raise ValueError(f'Unknown dataset {d!r}; valid datasets: {list(DATASETS)}.')
  os.makedirs(workdir, exist_ok=True)
  rows, panels = [], []
  for dataset in datasets:
    for method in methods:
      t0 = time.perf_counter()
      n = num_steps_unrolled if method.startswith('unrolled') else num_steps
      runs = sweeps.ToyRuns(method_config(dataset, method, n, arch, learning_rate),
                          seed + np.arange(seeds))
      source = runs.experiment.source

      def log(states, done):
        stats = evaluate(runs.sample(states, num_samples), source.centers, source.std)
        print(f'  {dataset} {method} step {done}: {_summary(stats)}; '
              f'{time.perf_counter() - t0:.0f} s', flush=True)

      states = runs.train(n, chunk=int(log_every) or min(n, 500),
                          after_chunk=log if log_every else None)
      samples = runs.sample(states, num_samples)
      stats = evaluate(samples, source.centers, source.std)
      mean, se = sweeps.mean_and_standard_error(stats)
      row = dict(zip(COLUMNS, (dataset, method, mean[0], se[0], mean[1], se[1], mean[2], se[2])))
      rows.append(dict(row, steps=n))
      panels.append((samples[0], source.centers,
                     f'{dataset} {method}: {stats[0, 0]:.0f} modes, {stats[0, 1]:.0%} hq'))
      print(f'{dataset} {method} ({n} steps): {_summary(stats)}; '
            f'{time.perf_counter() - t0:.0f} s (compile {runs.compile_seconds:.0f} s)', flush=True)
  with open(os.path.join(workdir, 'modes2d.csv'), 'w', newline='') as f:
    writer = csv.DictWriter(f, fieldnames=COLUMNS, extrasaction='ignore')
    writer.writeheader()
    for r in rows:
      writer.writerow({k: (f'{v:.6g}' if isinstance(v, float) else v) for k, v in r.items()})
  write_markdown(os.path.join(workdir, 'modes2d.md'), rows, seeds, arch)
  # Seed 0's samples of every row, so tables run in parts (methods=, datasets=) can be re-plotted.
  np.savez_compressed(os.path.join(workdir, 'modes2d_samples.npz'),
                      **{f"{r['dataset']}/{r['method']}": p[0] for r, p in zip(rows, panels)})
  path = os.path.join(workdir, 'figures', 'modes2d.png')
  toy_plots.save_scatter_grid(path, panels, columns=len(methods))
  return path

"""Throughput of an experiment's train step and input pipeline; one JSON line per run.

  python -m gan_research.benchmark --config=experiments/dcgan.py --config.data_dir=... \
      [--config.image_size=64 ...] [--windows=5 --window_steps=10]

Prints compile seconds, steps/s and images/s (median of timed windows after warm-up, with
min/max), the input pipeline's batches/s alone, FLOPs per step from XLA's cost analysis, and the
achieved FLOP/s as a fraction of a float32 matmul peak measured on the same device.

With --torch_reference (DCGAN), the PyTorch reference (benchmarks/torch_dcgan.py, same sizes)
runs in the same process and its timed windows alternate with ours, so both see the same load;
the ratio is the median over those window pairs of ours / PyTorch.
"""
import importlib.util
import json
import os
import statistics
import time

import jax
import jax.numpy as jnp
from absl import app, flags
from ml_collections import config_flags

from gan_research import parallel, train
from gan_research.data.pipeline import Prefetcher

_CONFIG = config_flags.DEFINE_config_file('config', None, 'Experiment config file.',
                                          lock_config=True)
_WINDOWS = flags.DEFINE_integer('windows', 5, 'Timed windows.')
_WINDOW_STEPS = flags.DEFINE_integer('window_steps', 10, 'Train steps per window.')
_WARMUP = flags.DEFINE_integer('warmup_steps', 3, 'Steps after compilation before timing.')
_TORCH = flags.DEFINE_bool('torch_reference', False,
                           'DCGAN only: also time the PyTorch reference (benchmarks/torch_dcgan.py, '
                           'same sizes, channels_last) in windows alternating with ours, and '
                           'print the ratio.')
flags.mark_flags_as_required(['config'])


def matmul_peak_flops(n=4096, repeats=5) -> float:
  """Best float32 FLOP/s of an n x n matmul on the default device."""
  a = jax.random.normal(jax.random.key(0), (n, n), jnp.float32)
  f = jax.jit(lambda a: a @ a)
  f(a).block_until_ready()
  best = float('inf')
  for _ in range(repeats):
    t = time.perf_counter()
    f(a).block_until_ready()
    best = min(best, time.perf_counter() - t)
  return 2 * n ** 3 / best


def _median_min_max(rates):
  return statistics.median(rates), min(rates), max(rates)


def benchmark(config, windows, window_steps, warmup_steps, reference=None):
  """Our train step's figures; `reference` (run(steps) -> steps/s) is timed in alternate windows."""
  experiment = train.build(config)
  state = experiment.init_state(jax.random.key(0))
  batches = Prefetcher(experiment.source, start_step=0, d_steps=config.d_steps,
                       batch_size=config.batch_size,
                       sharding=parallel.batch_sharding(experiment.mesh))
  rng = jax.random.key(1)
  step = experiment.make_train_step()
  batch = next(batches)
  t = time.perf_counter()
  compiled = step.lower(state, batch, rng).compile()
  compile_s = time.perf_counter() - t
  cost = compiled.cost_analysis()
  cost = cost[0] if isinstance(cost, (list, tuple)) else cost
  flops = float(cost.get('flops', 0.0)) if cost else None
  for _ in range(warmup_steps):
    state, _ = step(state, next(batches), rng)
  jax.block_until_ready(state)
  if reference is not None:
    reference(warmup_steps)
  rates, reference_rates = [], []
  for _ in range(windows):
    t = time.perf_counter()
    for _ in range(window_steps):
      state, metrics = step(state, next(batches), rng)
    jax.block_until_ready((state, metrics))
    rates.append(window_steps / (time.perf_counter() - t))
    if reference is not None:
      reference_rates.append(reference(window_steps))
  batches.close()
  # The input pipeline alone: host batches assembled into device arrays.
  pipeline = Prefetcher(experiment.source, start_step=10_000, d_steps=config.d_steps,
                        batch_size=config.batch_size,
                        sharding=parallel.batch_sharding(experiment.mesh))
  t, count = time.perf_counter(), max(window_steps * windows, 50)
  for _ in range(count):
    jax.block_until_ready(next(pipeline))
  pipeline_rate = count / (time.perf_counter() - t)
  pipeline.close()
  steps_per_sec, lo, hi = _median_min_max(rates)
  peak = matmul_peak_flops()
  memory = jax.devices()[0].memory_stats() or {}
  result = {
      'experiment': f'{config.model}/{config.dataset}',
      'device': jax.devices()[0].device_kind, 'num_devices': jax.device_count(),
      'image_size': config.image_size, 'batch_size': config.batch_size,
      'd_steps': config.d_steps, 'cpu_conv_backend': config.cpu_conv_backend,
      'compile_s': round(compile_s, 2),
      'steps_per_sec': round(steps_per_sec, 3), 'steps_per_sec_min': round(lo, 3),
      'steps_per_sec_max': round(hi, 3),
      'images_per_sec': round(steps_per_sec * config.batch_size, 1),
      'input_batches_per_sec': round(pipeline_rate, 1),
      'flops_per_step': flops,
      'matmul_peak_flops': peak,
      'flops_fraction_of_peak': round(flops * steps_per_sec / peak, 4) if flops else None,
      'peak_memory_bytes': memory.get('peak_bytes_in_use'),
      'jax_version': jax.__version__,
      # XLA's and PyTorch's CPU kernels differ most by vector width: AVX2 and AVX-512 machines
      # of the same size gave opposite ours/PyTorch ratios (docs/performance.md).
      'host_cpu': host_cpu(),
  }
  if reference is not None:
    ref, ref_lo, ref_hi = _median_min_max(reference_rates)
    ratios = [a / b for a, b in zip(rates, reference_rates)]
    result.update({
        'torch_steps_per_sec': round(ref, 3), 'torch_steps_per_sec_min': round(ref_lo, 3),
        'torch_steps_per_sec_max': round(ref_hi, 3),
        'ratio_ours_over_torch': round(statistics.median(ratios), 3),
        'ratio_min': round(min(ratios), 3), 'ratio_max': round(max(ratios), 3)})
  return result


def host_cpu(cpuinfo_path='/proc/cpuinfo'):
  """'MODEL NAME (N cpus, VECTOR ISA)' from Linux's cpuinfo, e.g. 'AMD EPYC (2 cpus, avx512)';
  None where there is no such file."""
  try:
    with open(cpuinfo_path) as f:
      text = f.read()
  except OSError:
    return None
  fields = [line.split(':', 1) for line in text.splitlines() if ':' in line]
  models = [v.strip() for k, v in fields if k.strip() == 'model name']
  flags = next((v.split() for k, v in fields if k.strip() == 'flags'), [])
  isa = next((name for name, flag in (('avx512', 'avx512f'), ('avx2', 'avx2'), ('sse4.2', 'sse4_2'))
              if flag in flags), 'other')
  return f"{models[0] if models else 'unknown'} ({len(models)} cpus, {isa})"


def torch_reference(config):
  """benchmarks/torch_dcgan.py's step with the experiment's sizes: run(steps) -> steps/s."""
  if config.model != 'dcgan':
    raise ValueError('--torch_reference exists for the dcgan experiment only.')
  path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                      'benchmarks', 'torch_dcgan.py')
  spec = importlib.util.spec_from_file_location('torch_dcgan', path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  channels = 1 if config.dataset == 'mnist' else 3
  return module.setup(config.image_size, config.batch_size, channels,
                      config.generator.latent_dim, config.generator.base_width,
                      config.discriminator.base_width, channels_last=True)


def main(argv):
  del argv
  reference = torch_reference(_CONFIG.value) if _TORCH.value else None
  print(json.dumps(benchmark(_CONFIG.value, _WINDOWS.value, _WINDOW_STEPS.value, _WARMUP.value,
                             reference)), flush=True)


if __name__ == '__main__':
  app.run(main)

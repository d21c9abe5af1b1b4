"""Per-layer GFLOP/s of transposed (and plain) convolutions for the DCGAN 64x64 shapes.

Prints one JSON line per (layer, implementation, pass), pass being 'forward', 'input_grad',
'kernel_grad' or 'both_grads' (one VJP giving both, as training needs), so the choice of forms in gan_research/ops/conv_transpose.py can be re-measured:

  python benchmarks/transposed_conv_layers.py [--batch 64] [--repeats 10] [--torch] [--conv]

Implementations of the generator's stride-2 kernel-4 'SAME' transposed convolutions:
  lax               lax.conv_transpose (what flax nn.ConvTranspose runs) and its autodiff
  ours:<forward>    gan_research.ops.conv_transpose with that forward (forward pass only)
  ours-bwd:<backward>  its custom VJP with that backward ('im2col' or 'conv'; gradient passes only)
  subpixel_autodiff the sub-pixel forward differentiated by JAX (no custom VJP)
  torch             torch.nn.functional.conv_transpose2d (with --torch; channels_last)
--conv adds the discriminator's stride-2 convolutions (lax.conv_general_dilated and torch) for
comparison: their forward/gradients are what the transposed-conv gradients turn into.
FLOPs are counted as 2 * multiply-adds of the dense op (the same for all three passes).
"""
import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax import lax  # noqa: E402

from gan_research.ops import conv_transpose as ct  # noqa: E402

# (input H=W, in channels, out channels) of the 64x64 DCGAN generator's stride-2 layers.
G_LAYERS = [(4, 512, 256), (8, 256, 128), (16, 128, 64), (32, 64, 3)]
# (input H=W, in channels, out channels) of the discriminator's stride-2 layers.
D_LAYERS = [(64, 3, 64), (32, 64, 128), (16, 128, 256), (8, 256, 512)]
KERNEL, STRIDE = 4, 2


def _time(fn, args, repeats):
  """Min and median seconds of fn(*args) over `repeats` calls, after compiling and a warm-up.

  The min is the better estimate of the uncontended speed on a shared machine; both are printed.
  """
  jax.block_until_ready(fn(*args))
  jax.block_until_ready(fn(*args))
  times = []
  for _ in range(repeats):
    start = time.perf_counter()
    jax.block_until_ready(fn(*args))
    times.append(time.perf_counter() - start)
  return min(times), statistics.median(times)


def _passes(f):
  """Jitted forward, input-gradient and kernel-gradient functions of f(x, kernel)."""
  forward = jax.jit(f)
  input_grad = jax.jit(lambda x, w, g: jax.vjp(lambda x: f(x, w), x)[1](g)[0])
  kernel_grad = jax.jit(lambda x, w, g: jax.vjp(lambda w: f(x, w), w)[1](g)[0])
  both = jax.jit(lambda x, w, g: jax.vjp(f, x, w)[1](g))
  return {'forward': lambda x, w, g: forward(x, w), 'input_grad': input_grad,
          'kernel_grad': kernel_grad, 'both_grads': both}


def _transposed_impls():
  dn = ('NHWC', 'HWIO', 'NHWC')
  impls = {'lax': lambda x, w: lax.conv_transpose(x, w, (STRIDE,) * 2, 'SAME',
                                                  dimension_numbers=dn)}
  for forward in ct.FORWARD_METHODS[1:]:  # all but 'auto', which picks one of them
    impls[f'ours:{forward}'] = (lambda forward: lambda x, w: ct.conv_transpose(
        x, w, (STRIDE,) * 2, 'SAME', forward=forward))(forward)
  for backward in ct.BACKWARD_METHODS:
    impls[f'ours-bwd:{backward}'] = (lambda backward: lambda x, w: ct.conv_transpose(
        x, w, (STRIDE,) * 2, 'SAME', backward=backward))(backward)
  cfg = ct._make_config((KERNEL, KERNEL, 1, 1), (STRIDE,) * 2, 'SAME', 'subpixel', 'im2col')
  impls['subpixel_autodiff'] = lambda x, w: ct._forward_subpixel(x, w, cfg)
  return impls


def _jax_rows(layer_kind, layers, impls, batch, repeats, skip_slow):
  rng = np.random.default_rng(0)
  for n, cin, cout in layers:
    flops = 2.0 * batch * n * n * cin * cout * KERNEL * KERNEL
    x = jnp.asarray(rng.normal(size=(batch, n, n, cin)), jnp.float32)
    w = jnp.asarray(rng.normal(size=(KERNEL, KERNEL, cin, cout)) * 0.02, jnp.float32)
    out_shape = jax.eval_shape(impls[next(iter(impls))], x, w).shape
    g = jnp.asarray(rng.normal(size=out_shape), jnp.float32)
    for name, f in impls.items():
      for pass_name, fn in _passes(f).items():
        if name.startswith('ours:') != (pass_name == 'forward') and name.startswith('ours'):
          continue  # forwards only for ours:*, gradients only for ours-bwd:*
        slow = name == 'lax' and pass_name in ('kernel_grad', 'both_grads')
        secs = _time(fn, (x, w, g), 2 if (skip_slow and slow) else repeats)
        pass_flops = flops * (2 if pass_name == 'both_grads' else 1)
        yield _row(layer_kind, n, cin, cout, out_shape[1], name, pass_name, secs, pass_flops,
                   batch)


def _row(layer_kind, n, cin, cout, n_out, impl, pass_name, secs, flops, batch):
  best, median = secs
  return {'experiment': 'transposed_conv_layers', 'layer': f'{layer_kind} {n}x{n}x{cin}->'
          f'{n_out}x{n_out}x{cout}', 'impl': impl, 'pass': pass_name, 'batch': batch,
          'ms_min': round(best * 1e3, 3), 'ms_median': round(median * 1e3, 3),
          'gflops': round(flops / best / 1e9, 2), 'gflops_median': round(flops / median / 1e9, 2)}


def _conv_rows(batch, repeats):
  """The discriminator's stride-2, pad-1 convolutions in lax."""
  rng = np.random.default_rng(0)
  f = lambda x, w: lax.conv_general_dilated(x, w, (STRIDE,) * 2, ((1, 1), (1, 1)),
                                            dimension_numbers=('NHWC', 'HWIO', 'NHWC'))
  for n, cin, cout in D_LAYERS:
    flops = 2.0 * batch * (n // 2) ** 2 * cin * cout * KERNEL * KERNEL
    x = jnp.asarray(rng.normal(size=(batch, n, n, cin)), jnp.float32)
    w = jnp.asarray(rng.normal(size=(KERNEL, KERNEL, cin, cout)) * 0.02, jnp.float32)
    g = jnp.asarray(rng.normal(size=(batch, n // 2, n // 2, cout)), jnp.float32)
    for pass_name, fn in _passes(f).items():
      yield _row('D conv', n, cin, cout, n // 2, 'lax', pass_name, _time(fn, (x, w, g), repeats),
                 flops, batch)


def _torch_rows(batch, repeats, threads, with_conv):
  try:
    import torch
  except ImportError as e:
    raise SystemExit('--torch needs PyTorch (pip install torch); it is not a dependency.') from e
  torch.set_num_threads(threads)
  fmt = torch.channels_last

  def timed(fn):
    fn(), fn()
    times = []
    for _ in range(repeats):
      start = time.perf_counter()
      fn()
      times.append(time.perf_counter() - start)
    return np.array([min(times), statistics.median(times)])

  kinds = [('G convT', G_LAYERS, True)] + ([('D conv', D_LAYERS, False)] if with_conv else [])
  for kind, layers, transposed in kinds:
    for n, cin, cout in layers:
      n_out = n * 2 if transposed else n // 2
      flops = 2.0 * batch * min(n, n_out) ** 2 * cin * cout * KERNEL * KERNEL
      x = torch.randn(batch, cin, n, n).to(memory_format=fmt).requires_grad_()
      if transposed:
        w = (torch.randn(cin, cout, KERNEL, KERNEL) * 0.02).requires_grad_()
        op = lambda x, w: torch.nn.functional.conv_transpose2d(x, w, stride=2, padding=1)
      else:
        w = (torch.randn(cout, cin, KERNEL, KERNEL) * 0.02).to(memory_format=fmt).requires_grad_()
        op = lambda x, w: torch.nn.functional.conv2d(x, w, stride=2, padding=1)
      g = torch.randn(batch, cout, n_out, n_out).to(memory_format=fmt)

      def forward():
        with torch.no_grad():
          op(x, w)

      def grad(wrt):
        return lambda: torch.autograd.grad(op(x, w), (wrt,), g)

      # torch's autograd grads include the forward; subtract it to report the backward pass alone.
      t_fwd = timed(forward)
      t_both = timed(lambda: torch.autograd.grad(op(x, w), (x, w), g)) - t_fwd
      for pass_name, secs in (('forward', t_fwd), ('input_grad', timed(grad(x)) - t_fwd),
                              ('kernel_grad', timed(grad(w)) - t_fwd), ('both_grads', t_both)):
        pass_flops = flops * (2 if pass_name == 'both_grads' else 1)
        yield _row(kind, n, cin, cout, n_out, 'torch', pass_name, np.maximum(secs, 1e-9),
                   pass_flops, batch)


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--batch', type=int, default=64)
  parser.add_argument('--repeats', type=int, default=10)
  parser.add_argument('--torch', action='store_true', help='also time PyTorch (channels_last)')
  parser.add_argument('--torch-threads', type=int, default=os.cpu_count())
  parser.add_argument('--conv', action='store_true', help="also time the D's plain convolutions")
  parser.add_argument('--impls', default='', help='comma-separated subset of implementations')
  parser.add_argument('--full-lax-kernel-grad', action='store_true',
                      help='time lax kernel gradients with --repeats too (default 2: they are slow)')
  args = parser.parse_args()
  impls = _transposed_impls()
  if args.impls:
    impls = {k: v for k, v in impls.items() if k in args.impls.split(',')}
  for row in _jax_rows('G convT', G_LAYERS, impls, args.batch, args.repeats,
                       not args.full_lax_kernel_grad):
    print(json.dumps(row), flush=True)
  if args.conv:
    for row in _conv_rows(args.batch, args.repeats):
      print(json.dumps(row), flush=True)
  if args.torch:
    for row in _torch_rows(args.batch, args.repeats, args.torch_threads, args.conv):
      print(json.dumps(row), flush=True)


if __name__ == '__main__':
  main()

"""PyTorch reference DCGAN train-step speed (Radford et al. 2016; the pytorch/examples dcgan).

One step = one D update on a real and a fake batch, then one non-saturating G update on a fresh
batch of z; BCE-with-logits losses, Adam(2e-4, betas=(0.5, 0.999)). Data are random tensors (speed
only). Prints ONE JSON line:

  python benchmarks/torch_dcgan.py --image-size 64 --batch-size 64 [--threads 2] [--channels-last]

PyTorch is optional (not a dependency of gan_research); this script says so if it is missing.
"""
import argparse
import json
import os
import statistics
import time


def _import_torch():
  try:
    import torch
  except ImportError as e:
    raise SystemExit('benchmarks/torch_dcgan.py needs PyTorch, which gan_research does not depend '
                     'on; install it (e.g. pip install torch) to run this reference.') from e
  return torch


def _layout(image_size: int):
  """(start size, number of doublings), as gan_research.models.dcgan: 64 -> 4-8-16-32-64,
  32 -> 4-8-16-32, 28 -> 7-14-28."""
  for start in (4, 7):
    n, size = 0, start
    while size < image_size:
      size, n = size * 2, n + 1
    if size == image_size and n >= 1:
      return start, n
  raise SystemExit(f'--image-size must be 4 * 2^k or 7 * 2^k (28, 32, 64, ...); got {image_size}.')


def build_models(torch, image_size: int, channels: int, nz: int, ngf: int, ndf: int):
  """pytorch/examples' DCGAN G and D, with the number of stride-2 layers set by the image size.

  64x64: G = ConvT(nz, 512, 4, 1, 0) + BN + ReLU, ConvT(512, 256, 4, 2, 1) + BN + ReLU, -> 128,
  -> 64, ConvT(64, c, 4, 2, 1) + Tanh; D = Conv(c, 64, 4, 2, 1) + LReLU(0.2), Conv(64, 128, 4, 2,
  1) + BN + LReLU, -> 256, -> 512, Conv(512, 1, 4, 1, 0). Smaller images drop the widest layers;
  28x28 starts from 7x7 (first/last kernels 7).
  """
  nn = torch.nn
  start, n = _layout(image_size)
  width = ngf * 2 ** (n - 1)
  g_layers = [nn.ConvTranspose2d(nz, width, start, 1, 0, bias=False), nn.BatchNorm2d(width),
              nn.ReLU(True)]
  for _ in range(n - 1):
    g_layers += [nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False),
                 nn.BatchNorm2d(width // 2), nn.ReLU(True)]
    width //= 2
  g_layers += [nn.ConvTranspose2d(width, channels, 4, 2, 1, bias=False), nn.Tanh()]

  d_layers, width = [nn.Conv2d(channels, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True)], ndf
  for _ in range(n - 1):
    d_layers += [nn.Conv2d(width, width * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(width * 2),
                 nn.LeakyReLU(0.2, True)]
    width *= 2
  d_layers += [nn.Conv2d(width, 1, start, 1, 0, bias=False), nn.Flatten(0)]

  def init(m):  # Radford et al.: N(0, 0.02) weights; BN scale N(1, 0.02), bias 0
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
      nn.init.normal_(m.weight, 0.0, 0.02)
    elif isinstance(m, nn.BatchNorm2d):
      nn.init.normal_(m.weight, 1.0, 0.02)
      nn.init.zeros_(m.bias)

  g, d = nn.Sequential(*g_layers), nn.Sequential(*d_layers)
  g.apply(init)
  d.apply(init)
  return g, d


def make_step(torch, g, d, batch_size: int, nz: int, memory_format):
  """One D update (real + fake) and one non-saturating G update on a fresh z."""
  opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
  opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
  bce = torch.nn.BCEWithLogitsLoss()
  ones, zeros = torch.ones(batch_size), torch.zeros(batch_size)

  def z():
    return torch.randn(batch_size, nz, 1, 1).contiguous(memory_format=memory_format)

  def step(real):
    fake = g(z())
    loss_d = bce(d(real), ones) + bce(d(fake.detach()), zeros)
    opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    opt_d.step()

    loss_g = bce(d(g(z())), ones)  # non-saturating: -log D(G(z))
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()
    return loss_d.detach(), loss_g.detach()

  return step


def setup(image_size=64, batch_size=64, channels=3, nz=100, ngf=64, ndf=64, threads=None,
          channels_last=True, seed=0):
  """Builds G, D, the optimisers and fixed random batches; returns run(steps) -> steps/s."""
  torch = _import_torch()
  torch.manual_seed(seed)
  torch.set_num_threads(threads or os.cpu_count())
  memory_format = torch.channels_last if channels_last else torch.contiguous_format
  g, d = build_models(torch, image_size, channels, nz, ngf, ndf)
  g, d = g.to(memory_format=memory_format), d.to(memory_format=memory_format)
  step = make_step(torch, g, d, batch_size, nz, memory_format)
  shape = (batch_size, channels, image_size, image_size)
  # A few fixed random "real" batches in [-1, 1] (tanh range), cycled: no data loading is timed.
  data = [(torch.rand(shape) * 2 - 1).contiguous(memory_format=memory_format) for _ in range(4)]

  def run(steps):
    start = time.perf_counter()
    for i in range(steps):
      losses = step(data[i % len(data)])
    float(losses[0])  # CPU ops are synchronous; this just makes the window end explicit
    return steps / (time.perf_counter() - start)

  return run


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--image-size', type=int, default=64)
  parser.add_argument('--batch-size', type=int, default=64)
  parser.add_argument('--channels', type=int, default=3)
  parser.add_argument('--nz', type=int, default=100)
  parser.add_argument('--ngf', type=int, default=64)
  parser.add_argument('--ndf', type=int, default=64)
  parser.add_argument('--threads', type=int, default=os.cpu_count())
  parser.add_argument('--channels-last', action='store_true', help='NHWC memory format')
  parser.add_argument('--warmup-steps', type=int, default=3)
  parser.add_argument('--steps-per-window', type=int, default=5)
  parser.add_argument('--windows', type=int, default=5)
  parser.add_argument('--seed', type=int, default=0)
  args = parser.parse_args()

  run = setup(args.image_size, args.batch_size, args.channels, args.nz, args.ngf, args.ndf,
              args.threads, args.channels_last, args.seed)
  run(args.warmup_steps)
  rates = [run(args.steps_per_window) for _ in range(args.windows)]
  torch = _import_torch()
  median = statistics.median(rates)
  print(json.dumps({
      'experiment': 'torch_dcgan', 'image_size': args.image_size,
      'batch_size': args.batch_size, 'channels': args.channels, 'nz': args.nz,
      'channels_last': args.channels_last, 'steps_per_sec': round(median, 4),
      'steps_per_sec_min': round(min(rates), 4), 'steps_per_sec_max': round(max(rates), 4),
      'images_per_sec': round(median * args.batch_size, 2), 'torch_version': torch.__version__,
      'threads': args.threads, 'windows': args.windows,
      'steps_per_window': args.steps_per_window}))


if __name__ == '__main__':
  main()

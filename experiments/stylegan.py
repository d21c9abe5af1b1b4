"""StyleGAN2 (Karras et al. 2020) with StyleGAN's mapping network, scaled by config.

Command:  python -m gan_research.main --config=experiments/stylegan.py --workdir=runs/sg
          (MNIST padded to 32x32; data_dir defaults to $GAN_RESEARCH_DATA, else
          ../shared/data/mnist when that folder exists, else MNIST through TFDS)
          Arguments: experiments/stylegan.py:res=32,width=64,batch=32,preset=...,runlocal
            preset=test      tiny widths for tests and smoke runs (any res)
            preset=paper256  StyleGAN2 config F at 256x256 (z = w = 512, 8 x 512 mapping,
                             channels min(32768 / res, 512)); image_folder data
            preset=paper1024 the same at 1024x1024 (FFHQ)
            preset=cifar     StyleGAN2-ADA's CIFAR-10 training settings at `width`
                             (D without skips, no mixing, no path length; see get_config)
          Figures: python -m gan_research.figures {style_mixing,interpolation,noise,truncation}
          --workdir=runs/sg; projection: python -m gan_research.project --workdir=runs/sg
          --target=img.png (see docs/stylegan.md).
Time:     res=32 default (width 64, batch 32) on an idle 2-core AVX-512 CPU: compile 36 s,
          1.79 steps/s (python -m gan_research.benchmark --config=experiments/stylegan.py);
          1.5-1.7 steps/s in training, with logging, checkpoints and sample grids.
Expected: MNIST digits of every class; from the EMA generator at step 3,000 (33 min) fid_mnist
          44.8, MNIST IS 7.14; at 5,000 (the default, 55 min) fid_mnist 28.0, IS 7.92,
          precision / recall 0.67 / 0.34 (README, docs/stylegan.md). With
          the linear output (output_activation='linear') every CPU-width run collapsed to one
          digit by step 400-1,500.
"""
import os

from gan_research import config_lib

PRESETS = ('', 'test', 'paper256', 'paper1024', 'cifar')
_MNIST_DIR = os.path.join('..', 'shared', 'data', 'mnist')  # relative to the repository root


def _default_data_dir(dataset):
  env = os.environ.get(config_lib.SHARED_DATA_ENV, '')
  if env or dataset != 'mnist':
    return env
  return _MNIST_DIR if os.path.isdir(_MNIST_DIR) else ''


def get_config(arg=None):
  arg = config_lib.parse_arg(arg, dataset='mnist', res=32, width=64, batch=32, preset='',
                             ema_kimg=10.0, runlocal=False)
  if arg.preset not in PRESETS:
    raise ValueError(f'Unknown preset {arg.preset!r}; valid presets: {list(PRESETS)}.')
  c = config_lib.base_config()
  c.game = 'stylegan'
  c.model = 'stylegan'
  c.dataset = arg.dataset
  c.data_dir = _default_data_dir(arg.dataset)
  c.image_size = arg.res
  # width = channel_max; channels at resolution r are min(16 * width / r, width) (for width 64:
  # 64 up to 16x16, 32 at 32x32); the mapping network and z, w are `width` wide.
  latent = mapping = width = arg.width
  channel_base = 16 * arg.width
  if arg.preset == 'test':
    latent, mapping, width, channel_base = 16, 16, 16, 128
  elif arg.preset.startswith('paper'):
    c.image_size = int(arg.preset.removeprefix('paper'))
    latent, mapping, width, channel_base = 512, 512, 512, 32768
    if arg.dataset == 'mnist':
      c.dataset = 'image_folder'
  # Output: linear as StyleGAN2 for the paper presets (natural images); tanh otherwise. With a
  # linear output every CPU-width run on MNIST (pixels at -1 and +1, which a linear output only
  # comes near) collapsed to one digit; with tanh they train (docs/stylegan.md).
  c.generator = {'latent_dim': latent, 'latent_distribution': 'normal', 'w_dim': latent,
                 'mapping_layers': 8, 'mapping_width': mapping, 'mapping_lr_mul': 0.01,
                 'channel_base': channel_base, 'channel_max': width,
                 'output_activation': 'linear' if arg.preset.startswith('paper') else 'tanh'}
  c.discriminator = {'channel_base': channel_base, 'channel_max': width, 'mbstd_group_size': 4,
                     'mbstd_channels': 1, 'architecture': 'resnet'}
  c.objective = 'nonsaturating'
  # Lazy R1 on reals: gamma (StyleGAN2-ADA's heuristic 0.0002 * res^2 / batch, 0.01 at 32x32 as
  # its CIFAR-10 setting; config F used 10 at 1024x1024), every 16 D updates.
  c.penalty = 'r1'
  c.penalty_weight = 10.0 if arg.preset.startswith('paper') else 0.01
  c.penalty_every = 16
  c.g_penalty_every = 4  # path-length regularisation every 4 G updates
  c.game_kw = {'pl_weight': 2.0, 'pl_decay': 0.01, 'pl_batch_shrink': 2,
               'style_mixing_prob': 0.9, 'w_avg_decay': 0.995, 'truncation_psi': 1.0}
  c.batch_size = arg.batch
  c.num_train_steps = 5000
  # StyleGAN2: Adam lr 0.002, betas (0, 0.99); lr and betas corrected for lazy regularisation.
  c.optimizer_g = config_lib.adam(0.002, 0.0, 0.99)
  c.optimizer_g.lazy_interval = c.get_ref('g_penalty_every')  # follows overrides
  c.optimizer_d = config_lib.adam(0.002, 0.0, 0.99)
  c.optimizer_d.lazy_interval = c.get_ref('penalty_every')
  # EMA generator with a half-life of ema_kimg thousand images (StyleGAN2: 10 kimg). Derived from
  # the batch here: change the batch with the `batch=` argument, not --config.batch_size.
  c.ema_decay = 0.5 ** (arg.batch / (arg.ema_kimg * 1000.0))
  if arg.preset == 'cifar':
    # StyleGAN2-ADA's `cifar` config (32x32, diverse classes; its train.py): D without residual
    # skips, no style mixing, no path length, 2 mapping layers, minibatch std over groups of 32,
    # lr 0.0025, gamma 0.01. Widths stay `width`: the reference uses 512 channels.
    c.discriminator.architecture = 'orig'
    c.discriminator.mbstd_group_size = 32
    c.generator.mapping_layers = 2
    c.game_kw.style_mixing_prob = 0.0
    c.game_kw.pl_weight = 0.0
    c.penalty_weight = 0.01
    c.optimizer_g.learning_rate = c.optimizer_d.learning_rate = 0.0025
  c.log_every_steps = 100
  c.checkpoint_every_steps = 500
  c.sample_every_steps = 500
  classifier = os.environ.get('GAN_RESEARCH_CLASSIFIER', '')
  for name in ('fid', 'kid', 'inception_score', 'pr'):  # not 'is': a Python keyword
    c.evals[name] = {'every_steps': -1, 'num_samples': 10_000, 'extractor': 'fid_mnist',
                     'classifier_path': classifier}
  if arg.runlocal:
    c.num_train_steps, c.log_every_steps = 20, 5
    c.checkpoint_every_steps = c.sample_every_steps = 20
  return c

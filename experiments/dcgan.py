"""DCGAN (Radford et al. 2016) on MNIST or any image dataset, and the SNGAN recipe on it.

Commands (data_dir: a folder holding the four MNIST IDX files; without it MNIST comes through
TFDS, from a prepared TFDS data dir or a download):
  python -m gan_research.main --config=experiments/dcgan.py --workdir=runs/dcgan \
      --config.data_dir=../shared/data/mnist
  python -m gan_research.main --config=experiments/dcgan.py:preset=sngan --workdir=runs/sngan \
      --config.data_dir=../shared/data/mnist
  python -m gan_research.main --config=experiments/dcgan.py:dataset=image_folder,res=64 \
      --workdir=runs/mine --config.data_dir=DIR     # your own images, any folder tree
Arguments: dataset (mnist | image_folder | tfds:NAME), res (28, 32, 64, ...: 4 or 7 times a
  power of 2; default 28, the preset's 32), width (G and D base width, 64), preset ('' | sngan),
  runlocal (a 20-step smoke run at width 8).
Presets:
  sngan  DCGAN's generator against SNGAN's discriminator (Miyato et al. 2018): spectral norm on
         every D layer instead of BatchNorm, hinge loss, 24,000 steps at 32x32, both learning
         rates constant to step 14,000 and then linearly to 0 at step 24,000.
Time: 28x28, batch 64: about 5 steps/s on an idle 2-core AVX2 CPU, 12 on an AVX-512 one; 32x32
  about 4.5 steps/s on the AVX-512 one.
Expected (MNIST, 10k samples of `python -m gan_research.evaluate --metrics=fid,kid,is,pr
  --num_samples=10000 --classifier=DIR`; docs/dcgan.md has the real-data floors):
  default   5,000 steps, 17-25 min on an idle 2-core AVX2 CPU: digits from step ~1,000;
            fid_mnist 65, IS 6.4 (scored with the 3-epoch classifier, docs/dcgan.md).
  sngan     24,000 steps, about 85 min on a 2-core AVX-512 CPU (4.4-5.0 steps/s): fid_mnist
            6.95, IS 9.16, precision / recall 0.70 / 0.83 (the default 10-epoch classifier).
"""
import os

from gan_research import config_lib

# Preset -> its image size when the `res` argument is not given.
PRESET_RES = {'': 28, 'sngan': 32}


def get_config(arg=None):
  arg = config_lib.parse_arg(arg, dataset='mnist', res=0, width=64, preset='', runlocal=False)
  if arg.preset not in PRESET_RES:
    raise ValueError(f'Unknown preset {arg.preset!r}; valid presets: {list(PRESET_RES)}.')
  c = config_lib.base_config()
  c.model = 'dcgan'
  c.dataset = arg.dataset
  c.image_size = arg.res or PRESET_RES[arg.preset]
  # conv_impl: 'auto' ('custom_vjp' on CPU: hand-written gradients, the same model; 'lax' on
  # GPU/TPU: plain flax). cpu_conv_backend='xla' with the 'conv' backward of both convolution
  # kinds was the fastest set for this model on a 2-core CPU (docs/performance.md); the same
  # model and values as the defaults.
  c.generator = dict(latent_dim=100, latent_distribution='normal', base_width=arg.width,
                     conv_impl='auto', conv_backward='conv')
  c.cpu_conv_backend = 'xla'
  c.discriminator = dict(base_width=arg.width, conv_impl='auto', conv_backward='conv',
                         norm='batch')  # or 'spectral' (SNGAN), 'none'
  c.objective = 'nonsaturating'
  c.batch_size = 64
  c.num_train_steps = 5000
  c.optimizer_g = config_lib.adam(2e-4, 0.5, 0.999)
  c.optimizer_d = config_lib.adam(2e-4, 0.5, 0.999)
  c.log_every_steps = 100
  c.checkpoint_every_steps = 1000
  c.sample_every_steps = 500
  # Off by default (every_steps = -1); e.g. --config.evals.fid.every_steps=1000. The fid_mnist
  # features come from the digit classifier of
  # `python -m gan_research.metrics.train_classifier --out=DIR` (classifier_path or the
  # GAN_RESEARCH_CLASSIFIER environment variable).
  classifier = os.environ.get('GAN_RESEARCH_CLASSIFIER', '')
  # (inception_score, not is: `is` is a Python keyword, so --config.evals.is.* cannot be parsed.)
  for name in ('fid', 'kid', 'inception_score', 'pr'):
    c.evals[name] = dict(every_steps=-1, num_samples=10_000, extractor='fid_mnist',
                         classifier_path=classifier)
  if arg.preset == 'sngan':
    # SNGAN's discriminator (Miyato et al. 2018) with its hinge loss: against the non-saturating
    # loss the spectral-norm D's logits stay small and G gets little gradient (docs/dcgan.md).
    c.discriminator.norm = 'spectral'
    c.objective = 'hinge'
    c.num_train_steps = 24_000
    for opt in (c.optimizer_g, c.optimizer_d):  # constant, then linearly to 0 (steps)
      opt.schedule, opt.decay_start_steps, opt.decay_steps = 'linear_decay', 14_000, 24_000
  if arg.runlocal:
    c.num_train_steps, c.batch_size = 20, 16
    c.generator.base_width = c.discriminator.base_width = 8
  return c

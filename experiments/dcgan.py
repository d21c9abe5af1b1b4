"""DCGAN (Radford et al. 2016) on MNIST (or any image dataset by name).

Command:  python -m gan_research.main --config=experiments/dcgan.py --workdir=runs/dcgan \
              --config.data_dir=../shared/data/mnist     # a folder with the 4 MNIST IDX files
          (without data_dir, MNIST comes through TFDS: a prepared TFDS data dir or a download)
          Arguments: experiments/dcgan.py:dataset=mnist,res=28 (res in 28, 32, 64).
Time:     28x28, batch 64: about 5 steps/s on an idle 2-core AVX2 CPU (5000 steps in about 17-25
          min), 12 on an AVX-512 one; :res=32 about 4.5 steps/s on the AVX-512 one.
Expected: digits in samples/step_*.png from ~1000 steps; loss/d ~ 0.45-0.7 and loss/g ~ 1.8-2.2
          after 2000 steps; at 5000 steps fid_mnist 65, MNIST IS 6.4; :res=32 (4-8-16-32) at 2000
          steps fid_mnist 28.1, MNIST IS 7.07; at 6000-8000 steps fid_mnist 7.7-8.8, IS 7.9-8.1;
          with both learning rates decaying to 0 over steps 8000-11000, fid_mnist 5.4, IS 8.14;
          20000 steps, decaying over 14000-20000 (70 min on the AVX-512 CPU): fid_mnist 2.9,
          IS 8.34; with --config.discriminator.norm=spectral --config.objective=hinge,
          16000 steps decaying over 10000-16000 (55 min): fid_mnist 2.9, IS 8.45; 24000 steps
          decaying over 14000-24000 (85 min): fid_mnist 2.5, IS 8.62. All these with the 3-epoch
          classifier; with the 10-epoch default one the 24000-step run scores IS 9.16 and
          fid_mnist 6.9 (floor 5.95) (README: Sample quality, with the command).
"""
import os

from gan_research import config_lib


def get_config(arg=None):
  arg = config_lib.parse_arg(arg, dataset='mnist', res=28, width=64, runlocal=False)
  c = config_lib.base_config()
  c.model = 'dcgan'
  c.dataset = arg.dataset
  c.image_size = arg.res
  # conv_impl: 'auto' ('custom_vjp' on CPU: hand-written gradients, the same model; 'lax' on
  # GPU/TPU: plain flax). cpu_conv_backend='xla' with the 'conv' backward of both convolution
  # kinds was the fastest set for this model on a 2-core CPU (README, Speed); the same model and
  # values as the defaults.
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
  if arg.runlocal:
    c.num_train_steps, c.batch_size = 20, 16
    c.generator.base_width = c.discriminator.base_width = 8
  return c

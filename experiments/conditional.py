"""Class-conditional DCGAN on MNIST: G(z, y) against D(x, y), conditioning chosen by name.

Commands (data_dir: a folder holding the four MNIST IDX files):
  python -m gan_research.main --config=experiments/conditional.py:cond=projection \
      --workdir=runs/cond_projection --config.data_dir=../shared/data/mnist
  python -m gan_research.main --config=experiments/conditional.py:cond=acgan \
      --workdir=runs/cond_acgan --config.data_dir=../shared/data/mnist
  python -m gan_research.main --config=experiments/conditional.py:cond=concat \
      --workdir=runs/cond_concat --config.data_dir=../shared/data/mnist
  python -m gan_research.figures class_grid --workdir=runs/cond_projection
Arguments: cond (below), g_cond / d_cond (override either player's method: models/dcgan.py's
  G_CONDS, D_CONDS), dataset (mnist | image_folder with one sub-folder per class | tfds:NAME),
  res (28), width (G and D base width), steps, runlocal (a 20-step smoke run at width 8).
cond:
  projection  conditional BatchNorm in G, projection discriminator (Miyato & Koyama 2018).
  acgan       label embedding joined to z in G, auxiliary classifier in D (Odena et al. 2017).
  concat      label embedding joined to z in G, one-hot label maps joined to D's input channels
              (the convolutional form of Mirza & Osindero 2014).
The rest is experiments/dcgan.py's default (28x28, batch 64, Adam 2e-4, beta1 0.5,
non-saturating loss, BatchNorm in both players), so `--config=experiments/dcgan.py` with the same
steps is the unconditional baseline. The cond evaluator (cond/accuracy: how often the digit
classifier reads the digit asked for) and fid run at the last step when GAN_RESEARCH_CLASSIFIER
or --config.evals.cond.classifier_path names a classifier of train_classifier.py.
Time: width=32, 1,500 steps: about 42 min on a 2-core CPU shared with other jobs.
Expected (docs/conditional.md): not yet what a conditional GAN should reach. At width=32 and
  1,500 steps, cond/accuracy 0.12 (projection), 0.13 (acgan), 0.40 (concat) against the 0.97
  aimed at, fid_mnist 124 / 244 / 294 against 112 for the unconditional DCGAN.
"""
import os

from gan_research import config_lib

CONDS = {'projection': ('batchnorm', 'projection'), 'acgan': ('concat', 'acgan'),
         'concat': ('concat', 'concat')}


def get_config(arg=None):
  arg = config_lib.parse_arg(arg, cond='projection', g_cond='', d_cond='', dataset='mnist',
                             res=28, width=64, steps=5000, runlocal=False)
  if arg.cond not in CONDS:
    raise ValueError(f'Unknown cond {arg.cond!r}; valid: {list(CONDS)}.')
  g_cond, d_cond = CONDS[arg.cond]
  num_classes = 10  # MNIST's digits; the game checks it against the data's classes
  c = config_lib.base_config()
  c.game = 'conditional'
  c.game_kw = dict(aux_weight=1.0)  # ACGAN's classification loss weight (acgan only)
  c.model = 'dcgan'
  c.dataset = arg.dataset
  c.image_size = arg.res
  c.generator = dict(latent_dim=100, latent_distribution='normal', base_width=arg.width,
                     conv_impl='auto', conv_backward='conv', num_classes=num_classes,
                     cond=arg.g_cond or g_cond)
  c.cpu_conv_backend = 'xla'  # the DCGAN's fastest on CPU (experiments/dcgan.py)
  c.discriminator = dict(base_width=arg.width, conv_impl='auto', conv_backward='conv',
                         norm='batch', num_classes=num_classes, cond=arg.d_cond or d_cond)
  c.objective = 'nonsaturating'
  c.batch_size = 64
  c.num_train_steps = arg.steps
  c.optimizer_g = config_lib.adam(2e-4, 0.5, 0.999)
  c.optimizer_d = config_lib.adam(2e-4, 0.5, 0.999)
  c.log_every_steps = 100
  c.checkpoint_every_steps = 1000
  c.sample_every_steps = 500
  classifier = os.environ.get('GAN_RESEARCH_CLASSIFIER', '')
  # At the last step only (every_steps = 0) when a classifier is named, else off (-1).
  every = 0 if classifier else -1
  c.evals.cond = dict(every_steps=every, num_samples=10_000, extractor='fid_mnist',
                      classifier_path=classifier)
  for name in ('fid', 'inception_score'):
    c.evals[name] = dict(every_steps=every, num_samples=10_000, extractor='fid_mnist',
                         classifier_path=classifier)
  if arg.runlocal:
    c.num_train_steps, c.batch_size = 20, 16
    c.generator.base_width = c.discriminator.base_width = 8
  return c

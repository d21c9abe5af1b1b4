"""Stacked MNIST mode coverage: DCGAN against PacDCGAN (PacGAN, Lin et al. 2018, Table 2).

Each image is three independent MNIST digits stacked as channels (28x28x3), 1,000 modes; the
`stacked_mnist` evaluator classifies each channel of 26,000 samples with the project's digit
classifier and reports `stacked_mnist/modes` (of 1,000) and `stacked_mnist/kl` (KL of the modes'
histogram to uniform).

Commands (data_dir: the four MNIST IDX files; GAN_RESEARCH_CLASSIFIER: a digit classifier from
`python -m gan_research.metrics.train_classifier --out=DIR`):
  export GAN_RESEARCH_CLASSIFIER=runs/mnist_classifier
  python -m gan_research.main --config=experiments/stacked_mnist.py:pack=1 \
      --workdir=runs/smnist_pack1 --config.data_dir=../shared/data/mnist
  python -m gan_research.main --config=experiments/stacked_mnist.py:pack=2 \
      --workdir=runs/smnist_pack2 --config.data_dir=../shared/data/mnist
  python -m gan_research.evaluate --workdir=runs/smnist_pack2 --metrics=stacked_mnist \
      --classifier=runs/mnist_classifier
Arguments: pack (1 = DCGAN, 2, 3, 4 = PacDCGAN2-4), preset ('' | pacgan), steps (G updates;
  default the preset's), width (G's and D's base width; default 64), runlocal (a 20-step smoke
  run at width 8).
Presets:
  ''      ours: the project's MNIST DCGAN (docs/dcgan.md) with 3 output channels: G z(100, normal)
          -> 7x7x128 -> 14x14x64 -> 28x28x3, D 28x28 -> 14x14x64 -> 7x7x128 -> logit, 4x4
          kernels, BatchNorm; non-saturating loss, Adam 2e-4 (b1 0.5), batch 64, 4,000 steps.
  pacgan  the network of PacGAN's and VEEGAN's Stacked MNIST runs (the DCGAN-tensorflow model of
          the PacGAN repository's stacked_MNIST_experiments/VEEGAN_experiment): 5x5 kernels,
          G z(100, uniform [-1, 1]) -> 2x2x512 -> 4x4x256 -> 7x7x128 -> 14x14x64 -> 28x28x3,
          D 28 -> 14x14x64 -> 7x7x128 -> 4x4x256 -> 2x2x512 -> linear logit, TF 'SAME'
          padding (models/dcgan_tf.py); Adam 2e-4 (b1 0.5), batch 64. The paper trains 50
          epochs of a fixed set of 128,000 stacked images (100,000 steps) with two G updates
          per D update; here each batch is a fresh draw and G is updated once per D update.
Packing concatenates `pack` samples on the channel axis of D's input (packing.py), the same
networks otherwise: D's first layer takes 3 * pack channels.
Time: width=32: 3,000 steps in 44-49 min on a 2-core CPU shared with other jobs (0.5-2.5
  steps/s); evaluating 26,000 samples about 3 min.
Expected (docs/stacked_mnist.md): width=32, 3,000 steps: DCGAN 970 modes / KL 0.54, PacDCGAN2
  914 / 0.81; both still far from converged. PacGAN's Table 2, after 100,000 steps of the
  pacgan network: DCGAN 78.9-99.0 modes / KL 3.40-4.50, PacDCGAN2 1000 / 0.06.
"""
import os

from gan_research import config_lib

PRESETS = ('', 'pacgan')


def get_config(arg=None):
  arg = config_lib.parse_arg(arg, pack=1, preset='', steps=0, width=0, runlocal=False)
  if arg.preset not in PRESETS:
    raise ValueError(f'Unknown preset {arg.preset!r}; valid presets: {list(PRESETS)}.')
  c = config_lib.base_config()
  c.dataset = 'stacked_mnist'
  c.image_size = 28
  c.pack = arg.pack
  c.objective = 'nonsaturating'
  c.batch_size = 64
  c.optimizer_g = config_lib.adam(2e-4, 0.5, 0.999)
  c.optimizer_d = config_lib.adam(2e-4, 0.5, 0.999)
  if arg.preset == 'pacgan':
    c.model = 'dcgan_tf'
    c.generator = dict(latent_dim=100, latent_distribution='uniform', base_width=64)
    c.discriminator = dict(base_width=64)
    c.num_train_steps = 100_000
  else:
    c.model = 'dcgan'
    c.generator = dict(latent_dim=100, latent_distribution='normal', base_width=64,
                       conv_impl='auto', conv_backward='conv')
    c.discriminator = dict(base_width=64, conv_impl='auto', conv_backward='conv', norm='batch')
    c.cpu_conv_backend = 'xla'  # the fastest for this model on CPU (experiments/dcgan.py)
    c.num_train_steps = 4000
  if arg.steps:
    c.num_train_steps = arg.steps
  if arg.width:
    c.generator.base_width = c.discriminator.base_width = arg.width
  c.log_every_steps = 100
  c.checkpoint_every_steps = 1000
  c.sample_every_steps = 500
  # Mode count and KL of 26,000 samples (VEEGAN's and PacGAN's number); off unless switched on
  # (--config.evals.stacked_mnist.every_steps=0: at the last step) or run by `evaluate`.
  c.evals.stacked_mnist = dict(every_steps=-1, num_samples=26_000, extractor='fid_mnist',
                               classifier_path=os.environ.get('GAN_RESEARCH_CLASSIFIER', ''))
  if arg.runlocal:
    c.num_train_steps, c.batch_size = 20, 16
    c.generator.base_width = c.discriminator.base_width = 8
    c.evals.stacked_mnist.num_samples = 1000
  return c

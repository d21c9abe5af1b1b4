"""2-D toy: an MLP GAN on the ring of 8 Gaussians (or the 5x5 grid) of PacGAN / VEEGAN.

Commands (no download):
  python -m gan_research.main --config=experiments/toy_2d.py --workdir=runs/toy
  python -m gan_research.main --config=experiments/toy_2d.py:dataset=grid25 --workdir=runs/grid
  python -m gan_research.figures scatter2d --workdir=runs/toy    # samples over the true modes
Arguments: dataset (ring8 | grid25), runlocal (200 steps).
Setup: G and D 3 x 128 (ReLU / leaky ReLU), 2-D latent, non-saturating loss, Adam 3e-4 (b1 0.5),
  batch 256, 10,000 steps, EMA 0.999 of G; mode statistics of 2,500 EMA samples every 2,500 steps.
Time: 35-75 s on a 2-core CPU (about 130-290 steps/s, compile 3 s).
Expected on ring8: 8/8 modes captured, 97% high-quality samples (within 3 std = 0.03 of a
  mode), reverse KL about 0.01: the last line printed is
  `modes/captured=8, modes/high_quality=0.9732, modes/reverse_kl=0.01128` (the third decimal
  varies between CPUs); samples/step_*.png shows the samples over the 8 modes. grid25 has no
  recorded result with this file; docs/toys.md has the PacGAN table on both mixtures.
"""
from gan_research import config_lib


def get_config(arg=None):
  arg = config_lib.parse_arg(arg, dataset='ring8', runlocal=False)
  c = config_lib.base_config()
  c.model = 'mlp'
  c.dataset = arg.dataset
  c.generator = dict(latent_dim=2, hidden_sizes=(128, 128, 128), activation='relu',
                     norm='none')  # or 'batch' (BatchNorm after each hidden layer)
  c.discriminator = dict(hidden_sizes=(128, 128, 128), activation='leaky_relu')
  c.objective = 'nonsaturating'
  c.batch_size = 256
  c.num_train_steps = 10_000
  c.optimizer_g = config_lib.adam(3e-4, 0.5, 0.999)
  c.optimizer_d = config_lib.adam(3e-4, 0.5, 0.999)
  c.ema_decay = 0.999
  c.log_every_steps = 1000
  c.checkpoint_every_steps = 5000
  c.sample_every_steps = 2500
  c.evals.modes = dict(every_steps=2500, num_samples=2500)
  if arg.runlocal:
    c.num_train_steps = 200
  return c

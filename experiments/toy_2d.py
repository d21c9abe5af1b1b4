"""2-D toy: an MLP GAN on the ring of 8 Gaussians (or the 5x5 grid) of PacGAN / VEEGAN.

Command:  python -m gan_research.main --config=experiments/toy_2d.py --workdir=runs/toy
          (grid: --config=experiments/toy_2d.py:dataset=grid25)
Time:     about 1-2 minutes on a 2-core CPU; no download.
Expected: on ring8, at least 7 of 8 modes captured with >= 90% high-quality samples (within
          3 std = 0.03 of a mode), logged as modes/* in metrics.jsonl and printed at the end;
          samples/step_*.png shows the samples over the 8 modes.
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

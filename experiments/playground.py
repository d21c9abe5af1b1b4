"""A run of the GAN playground (python -m gan_research.playground), trained by the trainer's loop.

Command (the page's Save prints it for a saved run):
  python -m gan_research.main --config=experiments/playground.py:data=bimodal,activation=tanh,steps=2000,seed=0 --workdir=runs/bimodal_tanh
Arguments (defaults in gan_research/playground/settings.py): data (unimodal, bimodal, trimodal,
  ring8, grid25), activation, minibatch, objective, pack, unroll_steps, d_steps, lr_g, lr_d,
  steps (1-10,001), seed, runlocal (200 steps).
Setup: 1-D as `figures toy1d` (G 2 x 32, D 2 x 32 leaky ReLU, batch 128), 2-D as `figures modes2d`
  (G and D 3 x 64, batch 240) at a constant Adam rate (b1 0.5).
Time: a few seconds for the default 2,000 1-D steps on a 2-core CPU, plus the compile.
Expected: the same parameters as the page's run of the same settings (docs/playground.md); for
  bimodal + tanh at 2,000 steps both modes covered (`figures samples` shows the histogram).
"""
from gan_research.playground import settings


def get_config(arg=None):
  return settings.config_for(settings.from_arg(arg))

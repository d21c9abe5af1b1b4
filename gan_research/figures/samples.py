"""Samples from the latest checkpoint (EMA generator if any): an image grid, or for 1-D/2-D data
the histogram/scatter plot. Writes DIR/figures/samples.png."""
import os

import jax

from gan_research import plots, train


def run(workdir, *, step=None, seed=0, num_samples=None):
  experiment, state = train.restore(workdir, step)
  is_image = len(experiment.example_shape) == 3
  n = num_samples or (64 if is_image else 2500)
  samples = experiment.make_sampler()(state, jax.random.key(seed), n)
  path = os.path.join(workdir, 'figures', 'samples.png')
  plots.save_samples(path, samples, experiment.source, title=f'step {int(state.step)}')
  return path

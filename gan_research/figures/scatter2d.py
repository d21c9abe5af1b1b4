"""2-D samples over the true modes, titled with the PacGAN/VEEGAN mode statistics (the picture of
Fig. 1 of Metz et al. 2017 / Fig. 2 of Srivastava et al. 2017). Writes DIR/figures/scatter2d.png."""
import os

import jax

from gan_research import plots, train
from gan_research.metrics import mode_statistics


def run(workdir, *, step=None, seed=0, num_samples=2500):
  experiment, state = train.restore(workdir, step)
  source = experiment.source
  if experiment.example_shape != (2,) or source.centers is None:
    raise ValueError(f'scatter2d needs a 2-D mixture dataset (ring8, grid25); this workdir '
                     f'trains {experiment.config.dataset!r}.')
  samples = experiment.make_sampler()(state, jax.random.key(seed), num_samples)
  stats = mode_statistics(samples, source.centers, source.std)
  title = (f'{experiment.config.dataset}, step {int(state.step)}: {stats["captured"]}/'
           f'{len(source.centers)} modes, {100 * stats["high_quality"]:.1f}% high quality')
  path = os.path.join(workdir, 'figures', 'scatter2d.png')
  plots.save_scatter2d(path, samples, source.centers, title)
  print(title)
  return path

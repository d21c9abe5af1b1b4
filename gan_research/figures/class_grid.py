"""One row per class, one fixed latent per column: DIR/figures/class_grid.png.

The class-by-latent grid of class-conditional GAN papers (ACGAN, Odena et al. 2017; projection
discriminator, Miyato & Koyama 2018): down a column only the label changes, so what the latent keeps (stroke width,
slant) and what the label decides show at a glance. From the EMA generator where there is one.
"""
import os

import jax
import jax.numpy as jnp

from gan_research import plots, train


def run(workdir, *, step=None, seed=0, num_samples=None):
  """`num_samples`: latents (columns); default 8."""
  experiment, state = train.restore(workdir, step)
  game = experiment.game
  if not game.generates_classes:
    raise ValueError(f'class_grid needs a class-conditional run (config.game=\'conditional\'); '
                     f'{workdir} trained game {experiment.config.game!r}.')
  columns, classes = num_samples or 8, experiment.source.num_classes

  @jax.jit
  def grid(state, key):
    z = jnp.tile(game.latents(key, columns), (classes, 1))
    labels = jnp.repeat(jnp.arange(classes), columns)
    return game.generate_classes(state.sampling_params, state.g.state, z, labels,
                                 ema=state.has_ema).astype(jnp.float32)

  images = jax.device_get(grid(state, jax.random.key(seed)))
  path = os.path.join(workdir, 'figures', 'class_grid.png')
  plots.save_image(path, plots.image_grid(images, columns=columns))
  return path

"""Projection (GAN inversion) into a trained StyleGAN (Karras et al. 2020, Section 5).

  python -m gan_research.project --workdir=DIR --target=img.png [--num_steps=1000]
  python -m gan_research.project --workdir=DIR --target_seed=7   # a known w, made by G itself

Finds one w (shared by all layers, the paper's W space) and the per-layer noise images whose
synthesis reproduces the target, by Adam (optax) on the pixel mean squared error (a G pixel beyond
a target pixel at +-1 counts as equal: images are clipped there) plus the paper's noise
regulariser (noise autocorrelation at all scales), starting from the tracked average w, with the
paper's learning-rate ramp and decaying noise added to w early on, and the noise images
renormalised to zero mean, unit variance after each step. (The paper measures distance with LPIPS;
its VGG weights are not available here, so the distance is in pixels.) The optimisation itself is
`gan_research.projection.project`, importable without these flags.

Prints the PSNR (dB, images in [-1, 1], peak-to-peak 2) and writes DIR/projection/NAME.png
(target | projection side by side) and NAME_w.npy.
"""
import json
import os

import jax
import numpy as np
from absl import app, flags

from gan_research.data.images import to_uint8
from gan_research import plots, trained_stylegan
from gan_research.projection import load_image, project

_WORKDIR = flags.DEFINE_string('workdir', None, 'StyleGAN training workdir.')
_TARGET = flags.DEFINE_string('target', None, 'Target image (PNG/JPEG); resized to the model.')
_TARGET_SEED = flags.DEFINE_integer('target_seed', None, 'Instead of --target: the image G makes '
                                    'from the w of this latent seed (random noise), saved as PNG.')
_NUM_STEPS = flags.DEFINE_integer('num_steps', 1000, 'Optimisation steps.')
_LR = flags.DEFINE_float('learning_rate', 0.1, 'Peak Adam learning rate.')
_NOISE_REG = flags.DEFINE_float('noise_regularize_weight', 1e5, 'Weight of the noise regulariser.')
_STEP = flags.DEFINE_integer('step', None, 'Checkpoint step (default: the latest).')
_SEED = flags.DEFINE_integer('seed', 0, 'Seed of the initial noise images.')


def main(argv):
  del argv
  if (_TARGET.value is None) == (_TARGET_SEED.value is None):
    raise app.UsageError('Give exactly one of --target=IMAGE and --target_seed=N.')
  model = trained_stylegan.load(_WORKDIR.value, _STEP.value)
  shape = model.generator.output_shape
  out_dir = os.path.join(_WORKDIR.value, 'projection')
  os.makedirs(out_dir, exist_ok=True)
  if _TARGET_SEED.value is not None:
    name = f'seed{_TARGET_SEED.value}'
    ws = model.mapping(model.z(_TARGET_SEED.value))
    made = model.synthesis(ws, noise_mode='random', rng=jax.random.key(_TARGET_SEED.value))[0]
    target_path = os.path.join(out_dir, f'{name}_target.png')
    plots.save_image(target_path, to_uint8(made))
  else:
    target_path = _TARGET.value
    name = os.path.splitext(os.path.basename(target_path))[0]
  target = load_image(target_path, shape)
  w, _, image, value = project(model, target, num_steps=_NUM_STEPS.value,
                               learning_rate=_LR.value, noise_weight=_NOISE_REG.value,
                               seed=_SEED.value)
  path = os.path.join(out_dir, f'{name}.png')
  plots.save_image(path, plots.image_grid(np.stack([target, image]), columns=2))
  np.save(os.path.join(out_dir, f'{name}_w.npy'), w)
  print(json.dumps({'target': target_path, 'psnr_db': round(value, 2), 'step': model.step,
                    'num_steps': _NUM_STEPS.value, 'figure': path}))


if __name__ == '__main__':
  flags.mark_flags_as_required(['workdir'])
  app.run(main)

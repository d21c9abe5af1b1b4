"""Projection (GAN inversion) into a trained StyleGAN (Karras et al. 2020, Section 5).

  python -m gan_research.project --workdir=DIR --target=img.png [--num_steps=1000]
  python -m gan_research.project --workdir=DIR --target_seed=7   # a known w, made by G itself

Finds one w (shared by all layers, the paper's W space) and the per-layer noise images whose
synthesis reproduces the target, by Adam (optax) on the pixel mean squared error plus the paper's
noise regulariser (noise autocorrelation at all scales), starting from the tracked average w, with
the paper's learning-rate ramp and decaying noise added to w early on, and the noise images
renormalised to zero mean, unit variance after each step. (The paper measures distance with LPIPS;
its VGG weights are not available here, so the distance is in pixels.)

Prints the PSNR (dB, images in [-1, 1], peak-to-peak 2) and writes DIR/projection/NAME.png
(target | projection side by side) and NAME_w.npy.
"""
import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import optax
from absl import app, flags
from PIL import Image

from gan_research.data.images import to_uint8
from gan_research.figures import plots, stylegan_common

_WORKDIR = flags.DEFINE_string('workdir', None, 'StyleGAN training workdir.')
_TARGET = flags.DEFINE_string('target', None, 'Target image (PNG/JPEG); resized to the model.')
_TARGET_SEED = flags.DEFINE_integer('target_seed', None, 'Instead of --target: the image G makes '
                                    'from the w of this latent seed (random noise), saved as PNG.')
_NUM_STEPS = flags.DEFINE_integer('num_steps', 1000, 'Optimisation steps.')
_LR = flags.DEFINE_float('learning_rate', 0.1, 'Peak Adam learning rate.')
_NOISE_REG = flags.DEFINE_float('noise_regularize_weight', 1e5, 'Weight of the noise regulariser.')
_STEP = flags.DEFINE_integer('step', None, 'Checkpoint step (default: the latest).')
_SEED = flags.DEFINE_integer('seed', 0, 'Seed of the initial noise images.')


def psnr(a, b):
  """PSNR in dB of images in [-1, 1] (peak-to-peak 2)."""
  mse = float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))
  return float('inf') if mse == 0 else 10.0 * np.log10(4.0 / mse)


def load_image(path, shape):
  """A PNG/JPEG as [H, W, C] in [-1, 1], resized and converted to the model's channels."""
  height, width, channels = shape
  image = Image.open(path).convert('L' if channels == 1 else 'RGB')
  image = image.resize((width, height), Image.LANCZOS)
  array = np.asarray(image, np.float32).reshape(height, width, channels)
  return array / 127.5 - 1.0


def _noise_regularizer(noise):
  """Sum over scales of squared autocorrelations at shifts of one pixel (Karras et al. 2020)."""
  loss = 0.0
  for n in noise:
    while True:
      loss += jnp.mean(n * jnp.roll(n, 1, axis=1)) ** 2 + jnp.mean(n * jnp.roll(n, 1, axis=2)) ** 2
      if n.shape[1] <= 8:
        break
      n = n.reshape(n.shape[0], n.shape[1] // 2, 2, n.shape[2] // 2, 2, 1).mean(axis=(2, 4))
  return loss


def project(model, target, *, num_steps=1000, learning_rate=0.1, noise_weight=1e5, seed=0,
            w_avg_samples=2000, initial_noise_factor=0.05, noise_ramp_length=0.75,
            lr_rampdown_length=0.25, lr_rampup_length=0.05):
  """Projects target [H, W, C] in [-1, 1] -> (w [w_dim], noise list, image, psnr)."""
  game = model.game
  z = jax.random.normal(jax.random.key(seed + 1), (w_avg_samples, model.generator.latent_dim))
  w_samples = np.asarray(model.mapping(z))[:, 0]
  w_mean = w_samples.mean(0)
  w_std = float(np.sqrt(np.sum((w_samples - w_mean) ** 2) / w_avg_samples))
  shapes = game.generator.apply({'params': model.params}, method='noise_shapes')
  keys = jax.random.split(jax.random.key(seed), len(shapes))
  noise = [jax.random.normal(k, (1, *hw, 1)) for k, hw in zip(keys, shapes)]
  variables = {'w': jnp.asarray(w_mean), 'noise': noise}
  target = jnp.asarray(target)[None]

  def schedule(i):
    t = i / num_steps
    ramp = jnp.minimum(1.0, (1.0 - t) / lr_rampdown_length)
    ramp = 0.5 - 0.5 * jnp.cos(ramp * jnp.pi)
    return learning_rate * ramp * jnp.minimum(1.0, t / lr_rampup_length)

  tx = optax.adam(schedule, b1=0.9, b2=0.999)
  opt_state = tx.init(variables)

  def image_of(variables, w_noise):
    ws = jnp.broadcast_to((variables['w'] + w_noise)[None, None], (1, model.num_ws,
                                                                  variables['w'].shape[0]))
    return game.synthesis(model.params, ws, jax.random.key(0), noise=variables['noise'])

  def loss_fn(variables, w_noise):
    image = image_of(variables, w_noise)
    mse = jnp.mean(jnp.square(image - target))
    return mse + noise_weight * _noise_regularizer(variables['noise']), mse

  @jax.jit
  def step(variables, opt_state, i, rng):
    t = i / num_steps
    scale = w_std * initial_noise_factor * jnp.maximum(0.0, 1.0 - t / noise_ramp_length) ** 2
    w_noise = jax.random.normal(rng, variables['w'].shape) * scale
    (_, mse), grads = jax.value_and_grad(loss_fn, has_aux=True)(variables, w_noise)
    updates, opt_state = tx.update(grads, opt_state, variables)
    variables = optax.apply_updates(variables, updates)
    # Keep the noise images at zero mean, unit variance (the paper's normalisation).
    variables['noise'] = [(n - jnp.mean(n)) * jax.lax.rsqrt(jnp.mean(jnp.square(n - jnp.mean(n))))
                          for n in variables['noise']]
    return variables, opt_state, mse

  rng = jax.random.key(seed + 2)
  for i in range(num_steps):
    variables, opt_state, _ = step(variables, opt_state, i, jax.random.fold_in(rng, i))
  image = np.asarray(jnp.clip(image_of(variables, 0.0), -1.0, 1.0))[0]
  return np.asarray(variables['w']), variables['noise'], image, psnr(image, target[0])


def main(argv):
  del argv
  if (_TARGET.value is None) == (_TARGET_SEED.value is None):
    raise app.UsageError('Give exactly one of --target=IMAGE and --target_seed=N.')
  model = stylegan_common.load(_WORKDIR.value, _STEP.value)
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

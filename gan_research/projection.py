"""Projection (GAN inversion) into a trained StyleGAN: the optimisation behind
`python -m gan_research.project` (see there), importable without its flags.

Finds one w (shared by all layers, the paper's W space) and the per-layer noise images whose
synthesis reproduces the target, by Adam (optax) on the pixel error plus the paper's noise
regulariser (Karras et al. 2020, Section 5).
"""
import jax
import jax.numpy as jnp
import numpy as np
import optax
from PIL import Image


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


def _clipped_error(image, target):
  """image - target, except that G's output beyond a target pixel at the bound (+-1) counts as
  equal: images are clipped to [-1, 1], so a saturated target says only "at least 1" (a plain
  difference would pull G's pixels back from where they clip to the target)."""
  error = image - target
  error = jnp.where(target >= 1.0, jnp.minimum(error, 0.0), error)
  return jnp.where(target <= -1.0, jnp.maximum(error, 0.0), error)


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
    mse = jnp.mean(jnp.square(_clipped_error(image, target)))
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

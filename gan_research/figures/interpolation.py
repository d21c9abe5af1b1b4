"""Interpolation in Z (spherical) and in W (linear) (Karras et al. 2019, Section 4):
DIR/figures/interpolation.png. Each pair of rows joins the same two latents: first the Z path
slerp(z0, z1, t) mapped to w, then the W path lerp(w0, w1, t). W paths should change more evenly
(the paper's perceptual path length is lower in W).
"""
import os

import numpy as np

from gan_research import plots, trained_stylegan


def slerp(a, b, t):
  """Spherical interpolation of vectors a, b [N, D] at t [T] -> [N, T, D]."""
  a_n = a / np.linalg.norm(a, axis=-1, keepdims=True)
  b_n = b / np.linalg.norm(b, axis=-1, keepdims=True)
  omega = np.arccos(np.clip(np.sum(a_n * b_n, -1, keepdims=True), -1.0, 1.0))[:, None]  # [N,1,1]
  t = np.asarray(t)[None, :, None]
  so = np.sin(omega)
  safe = np.where(so < 1e-6, 1.0, so)
  spherical = (np.sin((1 - t) * omega) * a[:, None] + np.sin(t * omega) * b[:, None]) / safe
  return np.where(so < 1e-6, (1 - t) * a[:, None] + t * b[:, None], spherical)


def lerp(a, b, t):
  t = np.asarray(t)[None, :, None]
  return (1 - t) * a[:, None] + t * b[:, None]


def run(workdir, *, step=None, seed=0, num_samples=None, psi=1.0, num_pairs=4, num_steps=10):
  model = trained_stylegan.load(workdir, step)
  num_steps = num_samples or num_steps
  t = np.linspace(0.0, 1.0, num_steps)
  z0, z1 = np.asarray(model.z(seed, num_pairs)), np.asarray(model.z(seed + 1, num_pairs))
  latent = z0.shape[-1]
  z_path = slerp(z0, z1, t).reshape(-1, latent)
  ws_z = model.mapping(z_path, psi)  # [pairs * steps, num_ws, w_dim]
  w0, w1 = np.asarray(model.mapping(z0, psi))[:, 0], np.asarray(model.mapping(z1, psi))[:, 0]
  w_path = lerp(w0, w1, t).reshape(-1, w0.shape[-1])
  ws_w = np.broadcast_to(w_path[:, None], (w_path.shape[0], model.num_ws, w_path.shape[-1]))
  images_z = model.synthesis(ws_z).reshape(num_pairs, num_steps, *model.generator.output_shape)
  images_w = model.synthesis(ws_w).reshape(num_pairs, num_steps, *model.generator.output_shape)
  rows = np.stack([images_z, images_w], axis=1).reshape(-1, *model.generator.output_shape)
  path = os.path.join(workdir, 'figures', 'interpolation.png')
  plots.save_image(path, plots.image_grid(rows, columns=num_steps))
  return path

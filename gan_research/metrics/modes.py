"""Mode coverage of samples from a known Gaussian mixture (PacGAN, Lin et al. 2018, Table 1;
VEEGAN, Srivastava et al. 2017).

A sample is high quality when it lies within `num_std` standard deviations of its nearest mode;
a mode is captured when at least one high-quality sample is nearest to it. The reverse KL is
KL(q || uniform) between the histogram q of high-quality samples over the modes and the uniform
distribution of the data (0 when every mode gets the same share; log(#modes) for one mode).
"""
import numpy as np


def mode_statistics(samples, centers, std, num_std=3.0):
  """Returns {'captured', 'high_quality' (a fraction), 'reverse_kl'} for samples [N, D]."""
  samples = np.asarray(samples, np.float64).reshape(len(samples), -1)
  centers = np.asarray(centers, np.float64).reshape(len(centers), -1)
  distances = np.linalg.norm(samples[:, None, :] - centers[None, :, :], axis=-1)
  nearest = np.argmin(distances, axis=1)
  good = distances[np.arange(len(samples)), nearest] <= num_std * std
  counts = np.bincount(nearest[good], minlength=len(centers))
  if counts.sum():
    q = counts / counts.sum()
    nz = q > 0
    reverse_kl = float(np.sum(q[nz] * np.log(q[nz] * len(centers))))
  else:
    reverse_kl = float('inf')  # no sample near any mode
  return {'captured': int(np.sum(counts > 0)), 'high_quality': float(np.mean(good)),
          'reverse_kl': reverse_kl}

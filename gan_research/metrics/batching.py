"""Running a jitted feature network over N images in fixed-size batches."""
import jax
import numpy as np


def apply_in_batches(apply_fn, variables, x: np.ndarray, batch_size: int):
  """Concatenated outputs of `apply_fn(variables, batch)` over x, for each output of the tuple.

  The last batch is zero-padded to batch_size, so one compilation serves every N.
  """
  n = x.shape[0]
  pad = -n % batch_size
  x = np.concatenate([x, np.zeros((pad,) + x.shape[1:], x.dtype)]) if pad else x
  outputs = [apply_fn(variables, x[i:i + batch_size]) for i in range(0, len(x), batch_size)]
  return tuple(np.concatenate(parts)[:n] for parts in zip(*jax.device_get(outputs)))

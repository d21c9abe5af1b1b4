"""Host -> device input pipeline: a background thread builds the next global batches."""
import queue
import threading

import jax
import numpy as np


class Prefetcher:
  """Yields the sharded global batch of each step from `start_step` on.

  Each process builds only its slice (source.get_batch) and the global array is assembled with
  `jax.make_array_from_process_local_data`, so the same code runs on 1 device or a pod.
  """

  def __init__(self, source, *, start_step, d_steps, batch_size, sharding, prefetch=2):
    self._source, self._step = source, start_step
    self._d_steps, self._batch_size, self._sharding = d_steps, batch_size, sharding
    self._queue = queue.Queue(maxsize=prefetch)
    self._stop = threading.Event()
    self._thread = threading.Thread(target=self._run, daemon=True)
    self._thread.start()

  def _make(self, step):
    local = self._source.get_batch(step, d_steps=self._d_steps, batch_size=self._batch_size,
                                   process_index=jax.process_index(),
                                   process_count=jax.process_count())
    return {k: jax.make_array_from_process_local_data(
        self._sharding, np.ascontiguousarray(v),
        (v.shape[0], self._batch_size) + v.shape[2:]) for k, v in local.items()}

  def _run(self):
    step = self._step
    while not self._stop.is_set():
      try:
        item = self._make(step)
      except Exception as e:  # handed to the consumer, which re-raises it with its traceback
        item = e
      while not self._stop.is_set():
        try:
          self._queue.put(item, timeout=0.1)
          break
        except queue.Full:
          continue
      if isinstance(item, Exception):
        return
      step += 1

  def __iter__(self):
    return self

  def __next__(self):
    item = self._queue.get()
    if isinstance(item, Exception):
      raise item
    return item

  def close(self):
    self._stop.set()
    self._thread.join(timeout=5)

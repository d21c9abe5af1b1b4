"""Stopping cleanly on SIGTERM: the signal schedulers send before they take a machine away.

SLURM (`--signal`, preemption, `scancel`), Kubernetes and preemptible / spot TPU and GPU VMs send
SIGTERM and wait a grace period (usually 30 s or more) before killing. The trainer then finishes
the step it is on, writes a checkpoint and returns normally (exit code 0); rerunning the same
command resumes from that checkpoint.
"""
import signal
import threading

import numpy as np
from absl import logging

# Steps between multi-process agreements on whether to stop. Each agreement is a tiny all-gather
# that waits for the steps already dispatched, so checking every step would stall the pipeline
# on pods; 10 steps stays well within a 30-second grace period for any model we train.
CHECK_EVERY_STEPS = 10


class StopOnSignal:
  """Between `install()` and `restore()` (or as a context manager), SIGTERM sets a flag.

  `should_stop(step)` is what the loop asks after each step. With one process it is the flag
  itself. With several, only some may have been signalled (or at different steps), so every
  `check_every` steps all processes all-gather their flags and stop together if any was set:
  they then leave the loop at the same step, which the collective checkpoint save needs.
  """

  def __init__(self, signals=(signal.SIGTERM,), check_every: int = CHECK_EVERY_STEPS,
               process_count: int = 1):
    if check_every < 1:
      raise ValueError(f'check_every must be >= 1; got {check_every}.')
    self.signals, self.check_every, self.process_count = tuple(signals), check_every, process_count
    self.received = None  # the name of the first signal received, if any
    self._previous = {}

  def _handle(self, signum, frame):
    del frame
    if self.received is None:
      self.received = signal.Signals(signum).name
      logging.warning('Received %s: stopping after the current step with a checkpoint.',
                      self.received)

  def __enter__(self):
    self.install()
    return self

  def __exit__(self, *exc_info):
    self.restore()

  def install(self):
    """Routes the signals to this object (the context manager calls it)."""
    if threading.current_thread() is not threading.main_thread():
      # Python only lets the main thread install handlers; the run then just cannot be stopped
      # cleanly, which is how it behaved before.
      logging.warning('Not in the main thread: SIGTERM will not stop training cleanly.')
      return
    for sig in self.signals:
      self._previous[sig] = signal.signal(sig, self._handle)

  def restore(self):
    """Puts back the handlers that were there before `install`."""
    for sig, handler in self._previous.items():
      signal.signal(sig, handler)
    self._previous = {}

  def should_stop(self, step: int) -> bool:
    """Whether every process should stop after `step`; call it on all processes every step."""
    if self.process_count == 1:
      return self.received is not None
    if step % self.check_every:
      return False
    from jax.experimental import multihost_utils
    flags = multihost_utils.process_allgather(np.int32(self.received is not None))
    return bool(np.any(flags))

"""Orbax checkpoints of the whole TrainState under WORKDIR/checkpoints/<step>/, with checksums.

Integrity: every checkpoint holds `integrity.json`, a checksum of each array of the state taken
when it was saved. A restore recomputes them from the restored arrays, so damage anywhere between
the save and the restore (a bad sector, a truncated copy between machines) is caught whatever
Orbax manages to decode. A checkpoint that fails, or that Orbax cannot read, is reported with its
step and path and the next older one is tried.

Completeness: Orbax writes step N into `N.orbax-checkpoint-tmp` and renames it to `N` once every
file is written, so a save killed half-way leaves no `N` folder. The manifest is written into that
temporary folder after Orbax has finalised the arrays and before the rename
(AsyncOptions.post_finalization_callback), so a step folder with a manifest is a complete save;
one without is skipped, except in a directory where no step has one (written before checksums
existed), which is restored unverified with a warning.

The checksums (CRC-32 of each array's bytes) are taken from host copies of the arrays made when
the save starts (views of the buffers on CPU; the train step donates the state, so they cannot be
read later), computed in a background thread beside Orbax's write, and written by Orbax's
finalising thread. Only process 0 writes the manifest; every process verifies its own restore
(the state is replicated) and all agree before a checkpoint is used.
"""
import json
import os
import shutil
import threading
import zlib

import jax
import jax.numpy as jnp
import numpy as np
import orbax.checkpoint as ocp
from absl import logging

MANIFEST = 'integrity.json'
_FORMAT = 1
# Orbax 0.12's temporary folder of an unfinished save of step N (AtomicRenameTemporaryPath).
_TMP_SUFFIX = '.orbax-checkpoint-tmp'


class CheckpointSaveError(OSError):
  """The disk refused a checkpoint (full, read-only, over quota); older checkpoints are intact."""


class NoUsableCheckpointError(RuntimeError):
  """Checkpoints exist but none verifies; nothing was moved or deleted."""


def _on_host(tree):
  """The arrays of `tree` as numpy arrays (on CPU, views of the device buffers: no copy)."""
  plain = lambda x: jax.random.key_data(x) if jnp.issubdtype(x.dtype, jax.dtypes.prng_key) else x
  return jax.device_get([plain(x) for x in jax.tree.leaves(tree)])


def checksums(tree):
  """CRC-32 of the bytes of each array of `tree`, in tree order."""
  # zlib releases the GIL on large buffers, so this runs beside the train loop and Orbax.
  return [zlib.crc32(np.ascontiguousarray(a).reshape(-1).view(np.uint8)) for a in _on_host(tree)]


class _Checksums(threading.Thread):
  """checksums() of host arrays, computed in the background; `result()` waits for them."""

  def __init__(self, host_arrays):
    super().__init__(daemon=True, name='checkpoint_checksums')
    self._arrays, self._result, self._error = host_arrays, None, None
    self.start()

  def run(self):
    try:
      self._result = checksums(self._arrays)
    except Exception as e:  # re-raised by result(), in Orbax's finalising thread
      self._error = e
    self._arrays = None  # release the host arrays (on CPU: the device buffers) at once

  def result(self):
    self.join()
    if self._error is not None:
      raise self._error
    return self._result


def describe(tree):
  """[(path, shape, dtype)] of the arrays of `tree`, in the order checksums() lists them."""
  return [(jax.tree_util.keystr(path), [int(d) for d in np.shape(x)], str(x.dtype))
          for path, x in jax.tree_util.tree_flatten_with_path(tree)[0]]


def _record(step, description, sums) -> dict:
  """The manifest: one entry per array, in tree order."""
  return {'format': _FORMAT, 'step': int(step), 'checksum': 'crc32 of each array',
          'arrays': [{'path': p, 'shape': s, 'dtype': d, 'crc32': f'{c:08x}'}
                     for (p, s, d), c in zip(description, sums)]}


def mismatches(expected: dict, restored) -> list:
  """Descriptions of the arrays of `restored` that differ from the manifest `expected`."""
  got = _record(-1, describe(restored), checksums(restored))['arrays']
  want = expected.get('arrays', [])
  if [a['path'] for a in want] != [a['path'] for a in got]:
    return [f'the arrays are not those saved ({len(want)} saved, {len(got)} restored)']
  return [f"{w['path']} (saved {w['shape']} {w['dtype']} crc32 {w['crc32']}, read "
          f"{g['shape']} {g['dtype']} crc32 {g['crc32']})"
          for w, g in zip(want, got) if w != g]


def _all_processes_agree(ok: bool) -> bool:
  if jax.process_count() == 1:
    return ok
  from jax.experimental import multihost_utils
  return bool(np.all(multihost_utils.process_allgather(np.int32(ok))))


class Checkpointer:
  """Saves every `checkpoint_every_steps` (asynchronously), keeps the last `max_to_keep`."""

  def __init__(self, workdir: str, max_to_keep: int = 3):
    self.workdir = os.path.abspath(workdir)
    self.directory = os.path.join(self.workdir, 'checkpoints')
    self._lock = threading.Lock()
    self._pending = {}  # step -> (tree description, _Checksums) of saves not yet finalised
    self._completed = []  # steps whose save (arrays and manifest) finished in this process
    self._failed = False  # a save failed and was raised
    self._restored = None  # the step this process restored and verified, if any
    self.max_to_keep = max_to_keep
    # Old checkpoints are deleted here, not by Orbax: Orbax 0.12 deletes beyond max_to_keep
    # when a save finalises even if that save failed, which can leave one checkpoint or none.
    self.manager = ocp.CheckpointManager(
        self.directory,
        options=ocp.CheckpointManagerOptions(
            max_to_keep=None, create=True, enable_async_checkpointing=True,
            async_options=ocp.AsyncOptions(post_finalization_callback=self._write_manifest)))

  def latest_step(self):
    """The newest step folder, verified or not (see `restore_newest` for one that verifies)."""
    return self.manager.latest_step()

  def last_good_step(self):
    """The newest step known good: saved completely by this process, or restored and verified."""
    good = self._completed + ([self._restored] if self._restored is not None else [])
    return max(good) if good else None

  def path(self, step) -> str:
    return os.path.join(self.directory, str(step))

  # Saving.

  def save(self, step: int, state):
    """Starts an asynchronous save of `state` (with its checksums) and returns."""
    with self._lock:
      # Host arrays now, before the next train step can donate the buffers; on CPU they are
      # views, which makes that one step copy its input instead of reusing it.
      self._pending[int(step)] = (describe(state), _Checksums(_on_host(state)))
    try:
      self.manager.save(step, args=ocp.args.StandardSave(state))
    except Exception as e:
      with self._lock:
        failed = min(self._pending)  # Orbax raises a failed earlier save at the next one
        self._pending.pop(int(step), None)
      self._failed = True
      raise self._save_error(failed, e) from e
    # Orbax waited for the previous save and it succeeded: older ones may go.
    self._delete_old(in_flight=int(step))

  def _delete_old(self, in_flight=None):
    """Keeps the newest max_to_keep complete checkpoints; a save in flight does not count."""
    if not self.max_to_keep or not self._completed:  # only a writer prunes (not figures)
      return
    complete = sorted(s for s in self.manager.all_steps() if s != in_flight)
    for step in complete[:-self.max_to_keep]:
      self.manager.delete(step)

  def _write_manifest(self, step=None):
    """Orbax's post-finalisation callback: the arrays of the oldest pending save are written."""
    with self._lock:  # the train loop adds the next save while this one finalises
      step = min(self._pending) if step is None else step
      description, job = self._pending.pop(step)
    sums = job.result()
    if jax.process_index() == 0:
      folder = self.path(step) + _TMP_SUFFIX
      if not os.path.isdir(folder):  # an Orbax path class that writes in place
        folder = self.path(step)
      record = _record(step, description, sums)
      with open(os.path.join(folder, MANIFEST), 'w') as f:
        json.dump(record, f)
        f.flush()
        os.fsync(f.fileno())
    self._completed.append(int(step))

  def _save_error(self, step, e):
    older = sorted(s for s in self.manager.all_steps() if s != step)
    return CheckpointSaveError(
        f'Could not write the checkpoint of step {step} under {self.directory}: '
        f'{type(e).__name__}: {e}\nThe disk refused the write (full, read-only or over quota?). '
        f'The older checkpoints {older} are untouched; free space or fix the permissions and '
        'rerun: the run resumes from the newest one that verifies.')

  def wait(self):
    """Blocks until the save in flight is written; raises CheckpointSaveError if it failed.

    A failed save is raised once: Orbax keeps re-raising it, and the caller already knows.
    """
    with self._lock:
      step = min(self._pending) if self._pending else None
    try:
      self.manager.wait_until_finished()
    except Exception as e:
      if self._failed:
        return
      self._failed = True
      raise self._save_error(step, e) from e
    if not self._failed:
      self._delete_old()

  def close(self):
    """Waits for the save in flight (CheckpointSaveError if it failed) and closes Orbax."""
    try:
      self.wait()
    finally:
      try:
        self.manager.close()
      except Exception:  # the same failed save again, already raised by wait()
        if not self._failed:
          raise

  # Restoring.

  def _read_manifest(self, step):
    path = os.path.join(self.path(step), MANIFEST)
    if not os.path.exists(path):
      return None
    with open(path) as f:
      return json.load(f)

  def _legacy_directory(self):
    return not any(os.path.exists(os.path.join(self.path(s), MANIFEST))
                   for s in self.manager.all_steps())

  def check(self, step, target):
    """(state, None) if checkpoint `step` restores and matches its checksums, else (None, why).

    `target` gives the shapes, dtypes and shardings (arrays or ShapeDtypeStructs).
    """
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, target)
    state, problem = None, None
    try:
      expected = self._read_manifest(step)
    except (OSError, ValueError) as e:
      expected, problem = None, f'its {MANIFEST} is unreadable ({type(e).__name__}: {e})'
    if problem is None and expected is None and not self._legacy_directory():
      problem = (f'it has no {MANIFEST}: the save did not complete (the process was stopped '
                 'while writing it)')
    if problem is None:
      try:
        state = self.manager.restore(step, args=ocp.args.StandardRestore(abstract))
      except Exception as e:
        problem = f'Orbax cannot read it ({type(e).__name__}: {str(e)[:500]})'
    if problem is None and expected is not None:
      bad = mismatches(expected, state)
      if bad:
        problem = (f'{len(bad)} array(s) differ from the checksums taken when it was saved: '
                   + '; '.join(bad[:3]) + (' ...' if len(bad) > 3 else ''))
    if problem is None and expected is None:
      logging.warning('Checkpoint %s has no %s (written before checksums existed): restored '
                      'unverified.', self.path(step), MANIFEST)
    if not _all_processes_agree(problem is None):
      problem = problem or 'another process could not restore or verify it'
    return (None, problem) if problem else (state, None)

  def restore_newest(self, target, set_aside: bool = False):
    """(step, state) of the newest checkpoint that verifies; None when there is no checkpoint.

    Each checkpoint that fails is logged with its step, path and reason. With `set_aside`, the
    failed ones newer than the restored step are moved to WORKDIR/checkpoints_rejected/ (the run
    writes those steps again); when none verifies, NoUsableCheckpointError is raised and nothing
    is moved or deleted.
    """
    rejected = []
    for step in sorted(self.manager.all_steps(), reverse=True):
      state, problem = self.check(step, target)
      if problem is None:
        if rejected:
          logging.warning('Resuming from %s, the newest checkpoint that verifies; skipped %s.',
                          self.path(step), ', '.join(str(s) for s, _ in rejected))
          if set_aside:
            self._set_aside([s for s, _ in rejected])
        self._restored = int(step)
        return int(step), state
      logging.error('Checkpoint %d at %s is unusable, skipping it: %s', step, self.path(step),
                    problem)
      rejected.append((step, problem))
    if not rejected:
      return None
    raise NoUsableCheckpointError(
        f'No checkpoint under {self.directory} verifies:\n'
        + '\n'.join(f'  step {s} ({self.path(s)}): {p}' for s, p in rejected)
        + '\nNothing was moved or deleted. If they were written by another config, check '
        'config.json in the workdir against your flags; to start over, use a new --workdir.')

  def _set_aside(self, steps):
    """Moves rejected step folders out of Orbax's sight, keeping them for inspection."""
    aside = os.path.join(self.workdir, 'checkpoints_rejected')
    if jax.process_index() == 0:
      os.makedirs(aside, exist_ok=True)
      for step in steps:
        destination, n = os.path.join(aside, str(step)), 1
        while os.path.exists(destination):
          destination, n = os.path.join(aside, f'{step}-{n}'), n + 1
        shutil.move(self.path(step), destination)
        logging.warning('Moved the unusable checkpoint %s to %s.', self.path(step), destination)
    if jax.process_count() > 1:
      from jax.experimental import multihost_utils
      multihost_utils.sync_global_devices('checkpoints_set_aside')
    self.manager.reload()

  def restore(self, target, step=None):
    """Restores into the shapes, dtypes and shardings of `target` (arrays or ShapeDtypeStructs).

    Without `step`, the newest checkpoint that verifies; with one, that checkpoint, which must.
    """
    if step is None:
      restored = self.restore_newest(target)
      if restored is None:
        raise FileNotFoundError(f'No checkpoint in {self.directory}.')
      return restored[1]
    if step not in self.manager.all_steps():
      raise FileNotFoundError(f'No checkpoint for step {step} in {self.directory}; available '
                              f'steps: {sorted(self.manager.all_steps())}.')
    state, problem = self.check(step, target)
    if problem:
      raise NoUsableCheckpointError(
          f'Could not restore the checkpoint at {self.path(step)}: {problem}.\nCheck config.json '
          'in the workdir against your flags, or pick another step.')
    return state

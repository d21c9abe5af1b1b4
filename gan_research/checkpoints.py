"""Orbax checkpoints of the whole TrainState under WORKDIR/checkpoints/<step>/."""
import os

import jax
import orbax.checkpoint as ocp


class Checkpointer:
  """Saves every `checkpoint_every_steps` (asynchronously), keeps the last `max_to_keep`."""

  def __init__(self, workdir: str, max_to_keep: int = 3):
    self.directory = os.path.join(os.path.abspath(workdir), 'checkpoints')
    self.manager = ocp.CheckpointManager(
        self.directory,
        options=ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True,
                                             enable_async_checkpointing=True))

  def latest_step(self):
    return self.manager.latest_step()

  def path(self, step) -> str:
    return os.path.join(self.directory, str(step))

  def save(self, step: int, state):
    self.manager.save(step, args=ocp.args.StandardSave(state))

  def restore(self, target, step=None):
    """Restores into the shapes, dtypes and shardings of `target` (arrays or ShapeDtypeStructs)."""
    step = self.latest_step() if step is None else step
    if step not in self.manager.all_steps():
      raise FileNotFoundError(f'No checkpoint for step {step} in {self.directory}; available '
                              f'steps: {sorted(self.manager.all_steps())}.')
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, target)
    try:
      return self.manager.restore(step, args=ocp.args.StandardRestore(abstract))
    except Exception as e:
      raise RuntimeError(
          f'Could not restore the checkpoint at {self.path(step)}: {type(e).__name__}: {e}\n'
          'It is corrupt or was written by a different model/config. Check config.json in the '
          'workdir against your flags; to fall back to the previous checkpoint, move this step '
          'folder out of the checkpoints folder (nothing is deleted automatically).') from e

  def wait(self):
    self.manager.wait_until_finished()

  def close(self):
    self.manager.close()

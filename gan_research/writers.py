"""Metric output from process 0: metrics.jsonl, TensorBoard event files and a progress line."""
import json
import os

import jax
import numpy as np


class MetricWriter:
  """Appends rows to metrics.jsonl and scalars to TensorBoard.

  `start_step` is the step training (re)starts from. Rows of later steps, written by a run that
  stopped after its last checkpoint, are dropped from metrics.jsonl, so each step appears once.
  TensorBoard event files cannot be rewritten: the new events file starts with tensorboardX's
  `purge_step` marker, and TensorBoard hides the earlier files' events from that step on (other
  readers of the raw event files see both). Evaluation outside training passes no start_step.
  """

  def __init__(self, workdir: str, start_step=None):
    self.enabled = jax.process_index() == 0
    self._jsonl = os.path.join(workdir, 'metrics.jsonl')
    self._tb = None
    if self.enabled:
      from tensorboardX import SummaryWriter
      if start_step is not None:
        drop_rows_after(self._jsonl, start_step)
      purge = None if start_step is None else int(start_step) + 1
      self._tb = SummaryWriter(workdir, purge_step=purge)

  def write(self, step: int, metrics: dict, echo: bool = True):
    """Appends a row to metrics.jsonl and TensorBoard; `echo` also prints it (the trainer's
    own rows are shown by its progress line instead, so each log step prints one line)."""
    if not self.enabled:
      return
    values = {k: float(v) for k, v in metrics.items()}
    with open(self._jsonl, 'a') as f:
      f.write(json.dumps({'step': int(step), **values}) + '\n')
    for name, value in values.items():
      self._tb.add_scalar(name, value, step)
    self._tb.flush()
    if echo:
      shown = ', '.join(f'{k}={v:.4g}' for k, v in values.items())
      print(f'[{step}] {shown}', flush=True)

  def close(self):
    if self._tb is not None:
      self._tb.close()


def drop_rows_after(path: str, step: int):
  """Rewrites the JSON-lines file `path` without rows of steps > `step` (or a torn last line)."""
  if not os.path.exists(path):
    return
  kept = []
  with open(path) as f:
    for line in f:
      try:
        row = json.loads(line)
      except ValueError:  # a line cut short by a crash
        continue
      if row.get('step', 0) <= step:
        kept.append(line if line.endswith('\n') else line + '\n')
  tmp = path + '.tmp'
  with open(tmp, 'w') as f:
    f.writelines(kept)
  os.replace(tmp, path)  # atomic: a crash here leaves the old file or the new one


def read_metrics(workdir: str):
  """All rows of WORKDIR/metrics.jsonl."""
  with open(os.path.join(workdir, 'metrics.jsonl')) as f:
    return [json.loads(line) for line in f if line.strip()]


def first_nonfinite(history):
  """(step, name, value) of the first non-finite metric in [(step, {name: value})], else None."""
  for step, metrics in history:
    for name, value in metrics.items():
      if not np.isfinite(value):
        return step, name, value
  return None

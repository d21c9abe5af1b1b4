"""Metric output from process 0: metrics.jsonl, TensorBoard event files and a progress line."""
import json
import os

import jax
import numpy as np


class MetricWriter:

  def __init__(self, workdir: str):
    self.enabled = jax.process_index() == 0
    self._jsonl = os.path.join(workdir, 'metrics.jsonl')
    self._tb = None
    if self.enabled:
      from tensorboardX import SummaryWriter
      self._tb = SummaryWriter(workdir)

  def write(self, step: int, metrics: dict):
    if not self.enabled:
      return
    values = {k: float(v) for k, v in metrics.items()}
    with open(self._jsonl, 'a') as f:
      f.write(json.dumps({'step': int(step), **values}) + '\n')
    for name, value in values.items():
      self._tb.add_scalar(name, value, step)
    self._tb.flush()
    shown = ', '.join(f'{k}={v:.4g}' for k, v in values.items())
    print(f'[{step}] {shown}', flush=True)  # the progress line, on stdout

  def close(self):
    if self._tb is not None:
      self._tb.close()


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

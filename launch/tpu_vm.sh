#!/bin/bash
# Train on a Cloud TPU VM slice (one host or a pod slice): create the TPU unless it exists, copy
# the committed code to every worker, install the requirements there, and run
# `python3 -m gan_research.main --distributed=on "$@"` on all workers at once.
#
#   TPU_NAME=gan-v4 ZONE=us-central2-b ACCELERATOR_TYPE=v4-32 BUCKET=my-bucket \
#     bash launch/tpu_vm.sh --config=experiments/dcgan.py --workdir=/mnt/gcs/runs/dcgan
#   DRY_RUN=1 bash launch/tpu_vm.sh ...    # print the gcloud commands instead (or --dry_run)
#
# BUCKET (a GCS bucket name) is mounted with gcsfuse at /mnt/gcs on every worker, so the workdir
# (checkpoints, metrics, samples) outlives the VMs. Optional: PROJECT, RUNTIME_VERSION, SPOT=1
# (preemptible capacity). Resuming, also after a preemption: run the same command again; it
# recreates the TPU if it is gone and continues from the workdir's latest checkpoint.
set -euo pipefail

if [[ "${1:-}" == --dry_run ]]; then
  export DRY_RUN=1
  shift
fi
: "${TPU_NAME:?set TPU_NAME (the TPU VM to create or reuse)}"
: "${ZONE:?set ZONE (e.g. us-central2-b)}"
: "${ACCELERATOR_TYPE:?set ACCELERATOR_TYPE (e.g. v4-8, v4-32)}"
RUNTIME_VERSION=${RUNTIME_VERSION:-tpu-ubuntu2204-base}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=launch/common.sh
source "$REPO/launch/common.sh"

GCLOUD=(gcloud compute tpus tpu-vm)
WHERE=(--zone="$ZONE")
[[ -n "${PROJECT:-}" ]] && WHERE+=(--project="$PROJECT")
on_all_workers() { run "${GCLOUD[@]}" ssh "$TPU_NAME" "${WHERE[@]}" --worker=all --command="$1"; }

# 1. The TPU: reuse it if it exists; a preempted spot TPU cannot restart, so replace it.
if [[ "${DRY_RUN:-0}" == 1 ]]; then
  echo "# if '${GCLOUD[*]} describe $TPU_NAME' finds no TPU (after deleting a PREEMPTED one):"
  state=
else
  state=$("${GCLOUD[@]}" describe "$TPU_NAME" "${WHERE[@]}" --format='value(state)' 2>/dev/null \
          || true)
fi
if [[ "$state" == PREEMPTED ]]; then
  run "${GCLOUD[@]}" delete "$TPU_NAME" "${WHERE[@]}" --quiet
  state=
fi
if [[ -z "$state" ]]; then
  create=(create "$TPU_NAME" "${WHERE[@]}" --accelerator-type="$ACCELERATOR_TYPE"
          --version="$RUNTIME_VERSION")
  [[ "${SPOT:-0}" == 1 ]] && create+=(--spot)
  run "${GCLOUD[@]}" "${create[@]}"
fi

# 2. The code: the committed tree (git archive), the same on every worker.
ARCHIVE=${TMPDIR:-/tmp}/gan_research.tar.gz
run git -C "$REPO" archive --format=tar.gz -o "$ARCHIVE" HEAD
run "${GCLOUD[@]}" scp "$ARCHIVE" "$TPU_NAME:gan_research.tar.gz" "${WHERE[@]}" --worker=all
on_all_workers 'rm -rf ~/gan_research && mkdir -p ~/gan_research && tar xzf ~/gan_research.tar.gz -C ~/gan_research'

# 3. Requirements, with the TPU build of the pinned jax.
on_all_workers 'cd ~/gan_research && JAX=$(grep "^jax==" requirements.txt | cut -d= -f3) && pip install -q -r requirements.txt "jax[tpu]==$JAX"'

# 4. The workdir's bucket.
if [[ -n "${BUCKET:-}" ]]; then
  on_all_workers "sudo mkdir -p /mnt/gcs && sudo chown \$USER /mnt/gcs && (mountpoint -q /mnt/gcs || gcsfuse --implicit-dirs ${BUCKET#gs://} /mnt/gcs)"
fi

# 5. Train: every worker is one process; jax.distributed finds the others (--distributed=on).
args=
for arg in "$@"; do args+=" $(shell_quote "$arg")"; done
on_all_workers "cd ~/gan_research && python3 -m gan_research.main --distributed=on$args"

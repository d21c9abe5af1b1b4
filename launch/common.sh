# Helpers the launchers source; no hyper-parameters here (they live in experiments/*.py).
# Sourceable on its own, so tests can call the functions: `source launch/common.sh`.

# One shell word, quoted only where it needs to be (readable dry runs that still paste back).
shell_quote() {
  if [[ "$1" =~ ^[A-Za-z0-9_./=:@%+,-]+$ ]]; then
    printf '%s' "$1"
  else
    printf "'%s'" "${1//\'/\'\\\'\'}"
  fi
}

# DRY_RUN=1 (or --dry_run as a launcher's first argument): print each command, run nothing.
run() {
  if [[ "${DRY_RUN:-0}" == 1 ]]; then
    local word line='+'
    for word in "$@"; do line+=" $(shell_quote "$word")"; done
    echo "$line"
  else
    "$@"
  fi
}

# The first host of a SLURM node list ('gpu[07-09,12],cpu01' -> 'gpu07'): the coordinator.
# Uses `scontrol show hostnames` where SLURM is installed, else parses the list in bash.
first_host() {
  local list=$1
  if command -v scontrol >/dev/null 2>&1; then
    scontrol show hostnames "$list" | head -n 1
    return
  fi
  local prefix=${list%%[\[,]*}  # text before the first '[' or ','
  local rest=${list:${#prefix}}
  if [[ $rest == \[* ]]; then
    local ranges=${rest#\[}
    ranges=${ranges%%\]*}
    local first=${ranges%%[,-]*}  # first number of the first range, zero padding kept
    local suffix=${rest#*\]}
    suffix=${suffix%%[\[,]*}
    echo "${prefix}${first}${suffix}"
  else
    echo "$prefix"
  fi
}

# gan_research.main's multi-process flags for this SLURM task: coordinator = first host of the
# job, one process per task. The port is derived from the job id (as jax's own SLURM detection
# does) so concurrent jobs sharing a node do not collide; GAN_RESEARCH_COORDINATOR_PORT overrides.
slurm_distributed_flags() {
  local var
  for var in SLURM_JOB_NODELIST SLURM_NTASKS SLURM_PROCID; do
    if [[ -z "${!var:-}" ]]; then
      echo "slurm_distributed_flags: $var is not set; run inside a SLURM job (sbatch/srun)." >&2
      return 1
    fi
  done
  local port=${GAN_RESEARCH_COORDINATOR_PORT:-$(( ${SLURM_JOB_ID:-0} % 4096 + 61440 ))}
  echo "--coordinator_address=$(first_host "$SLURM_JOB_NODELIST"):$port" \
       "--num_processes=$SLURM_NTASKS --process_id=$SLURM_PROCID"
}

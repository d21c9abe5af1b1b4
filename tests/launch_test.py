"""launch/: the scripts parse, compute the SLURM ranks, and their dry runs print the commands."""
import glob
import os
import subprocess

import pytest

from conftest import REPO

SCRIPTS = sorted(glob.glob(os.path.join(REPO, 'launch', '*.sh')) +
                 glob.glob(os.path.join(REPO, 'launch', '*.sbatch')))
# A PATH without SLURM or gcloud, so nothing real can run and scontrol is absent.
BARE_PATH = '/usr/bin:/bin'
SLURM_ENV = dict(SLURM_JOB_NODELIST='gpu[07-09,12]', SLURM_NTASKS='8', SLURM_PROCID='5',
                 SLURM_JOB_ID='123456')


def _bash(script, *args, **env):
  return subprocess.run(['bash', '-c', script, 'bash', *args], cwd=REPO, capture_output=True,
                        text=True, timeout=30, env={'PATH': BARE_PATH, 'HOME': '/tmp', **env})


def test_launchers_exist_and_parse():
  names = {os.path.basename(s) for s in SCRIPTS}
  assert {'common.sh', 'slurm.sbatch', 'tpu_vm.sh'} <= names
  for script in SCRIPTS:
    result = subprocess.run(['bash', '-n', script], capture_output=True, text=True)
    assert result.returncode == 0, (script, result.stderr)


@pytest.mark.parametrize('nodelist,first', [
    ('gpu[07-09,12]', 'gpu07'), ('node1,node2', 'node1'), ('x[003]', 'x003'),
    ('rack-[1-2]-ib,b7', 'rack-1-ib'), ('solo', 'solo'), ('a[5,1-3],b[1-2]', 'a5'),
])
def test_first_host_without_scontrol(nodelist, first):
  result = _bash('source launch/common.sh && first_host "$1"', nodelist)
  assert result.stdout.strip() == first, result.stderr


def test_slurm_flags_for_a_sample_job():
  result = _bash('source launch/common.sh && slurm_distributed_flags', **SLURM_ENV)
  assert result.stdout.split() == ['--coordinator_address=gpu07:62016', '--num_processes=8',
                                   '--process_id=5'], result.stderr
  # 123456 % 4096 + 61440: from the job id, so two jobs on one node differ; overridable.
  result = _bash('source launch/common.sh && slurm_distributed_flags', **SLURM_ENV,
                 GAN_RESEARCH_COORDINATOR_PORT='1234')
  assert '--coordinator_address=gpu07:1234' in result.stdout


def test_slurm_flags_outside_slurm_fail_clearly():
  result = _bash('source launch/common.sh && slurm_distributed_flags')
  assert result.returncode != 0 and 'SLURM_JOB_NODELIST is not set' in result.stderr


def test_slurm_dry_run_prints_the_task_command_and_srun():
  args = ('--config=experiments/dcgan.py', '--workdir=/shared/runs/dcgan')
  for dry in (dict(DRY_RUN='1'), {}):
    flag = () if dry else ('--dry_run',)
    result = _bash('bash launch/slurm.sbatch "$@"', *flag, *args, **SLURM_ENV, **dry,
                   SLURM_SUBMIT_DIR=REPO)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert ('+ python -m gan_research.main --coordinator_address=gpu07:62016 --num_processes=8 '
            '--process_id=5 --config=experiments/dcgan.py --workdir=/shared/runs/dcgan') in lines
    srun = [line for line in lines if line.startswith('+ srun ')]
    assert len(srun) == 1 and srun[0].endswith(' '.join(args)), lines
    assert 'slurm_distributed_flags' in srun[0]


def test_tpu_dry_run_prints_the_gcloud_commands():
  result = _bash('bash launch/tpu_vm.sh --dry_run "$@"', '--config=experiments/dcgan.py',
                 '--workdir=/mnt/gcs/runs/dcgan', TPU_NAME='gan-v4', ZONE='us-central2-b',
                 ACCELERATOR_TYPE='v4-32', BUCKET='gs://my-bucket', SPOT='1')
  assert result.returncode == 0, result.stderr
  out = result.stdout
  ssh = '+ gcloud compute tpus tpu-vm ssh gan-v4 --zone=us-central2-b --worker=all '
  for expected in (
      '+ gcloud compute tpus tpu-vm create gan-v4 --zone=us-central2-b --accelerator-type=v4-32 '
      '--version=tpu-ubuntu2204-base --spot',
      'gcloud compute tpus tpu-vm scp ',
      ssh + "'--command=rm -rf ~/gan_research",
      'pip install -q -r requirements.txt "jax[tpu]==$JAX"',
      'gcsfuse --implicit-dirs my-bucket /mnt/gcs',
      ssh + "'--command=cd ~/gan_research && python3 -m gan_research.main --distributed=on "
      "--config=experiments/dcgan.py --workdir=/mnt/gcs/runs/dcgan'"):
    assert expected in out, (expected, out)


def test_tpu_launcher_names_missing_settings():
  result = _bash('bash launch/tpu_vm.sh --dry_run --config=x', ZONE='z', ACCELERATOR_TYPE='v4-8')
  assert result.returncode != 0 and 'TPU_NAME' in result.stderr

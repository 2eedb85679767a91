"""tools/slurm_train.sh through a stand-in `srun` (no Slurm here)."""
import os
import subprocess
import sys
import textwrap

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

FAKE_SRUN = textwrap.dedent('''\
    #!/usr/bin/env bash
    # Record the options, then run the command as Slurm task 0 of 1.
    echo "$@" > "$SRUN_LOG"
    while [[ "$1" == -* ]]; do
        if [[ "$1" == -p ]]; then shift; fi  # the only option with a value
        shift
    done
    SLURM_PROCID=0 SLURM_NTASKS=1 SLURM_LOCALID=0 SLURM_NODELIST=127.0.0.1 \\
        MASTER_PORT=$FAKE_PORT exec "$@"
    ''')


def test_slurm_train_runs_one_task_on_cpu(demo_root, tmp_path):
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    srun = bin_dir / 'srun'
    srun.write_text(FAKE_SRUN)
    srun.chmod(0o755)
    work = tmp_path / 'work'
    # `python` in the script must be this interpreter (an unactivated venv)
    path = f'{bin_dir}:{os.path.dirname(sys.executable)}:{os.environ["PATH"]}'
    env = dict(os.environ, PATH=path,
               SRUN_LOG=str(tmp_path / 'srun.log'), FAKE_PORT='29617',
               GPUS='1', GPUS_PER_NODE='0', OMP_NUM_THREADS='1')
    proc = subprocess.run(
        ['bash', os.path.join(REPO, 'tools', 'slurm_train.sh'), 'part',
         'job', os.path.join(REPO, 'configs', 'asl', 'asl_demo.py'),
         str(work), '--cfg-options', f'train_dataloader.dataset.data_root='
         f'{demo_root}', 'train_dataloader.dataset.indices=4',
         'train_cfg.max_epochs=1', 'val_cfg=None', 'val_dataloader=None',
         'val_evaluator=None'],
        env=env, capture_output=True, text=True, timeout=300,
        cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    srun_args = (tmp_path / 'srun.log').read_text()
    assert '-p part' in srun_args and '--job-name=job' in srun_args
    assert '--gres' not in srun_args  # CPU-only: no GPU request
    assert '--launcher slurm' in srun_args
    assert (work / 'epoch_1.pth').exists()

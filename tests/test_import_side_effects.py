"""``import asl_mmaction`` in a fresh process changes nothing else: MMEngine
keeps its checkpoint loader, matplotlib is not imported, mmcv-lite's
MultiScaleDeformableAttention warning is not printed."""
import json
import subprocess
import sys

from run_helpers import REPO, tool_env

PROBE = '''
import json, sys, warnings
warnings.simplefilter('always')
import asl_mmaction
from mmengine.runner import CheckpointLoader
from mmengine.runner.checkpoint import load_from_local
from mmaction.registry import MODELS
MODELS.build(dict(type='ConvBackbone', in_channels=4, embed_channels=8,
                  arch=(1, 1, 1)))
print(json.dumps(dict(
    matplotlib=sorted(m for m in sys.modules if m.startswith('matplotlib')),
    mmengine_loader=CheckpointLoader._schemes[''] is load_from_local)))
'''


def test_import_has_no_global_side_effects():
    proc = subprocess.run([sys.executable, '-c', PROBE], cwd=str(REPO),
                          env=tool_env(), capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = json.loads(proc.stdout.strip().splitlines()[-1])
    assert found == dict(matplotlib=[], mmengine_loader=True)
    assert 'MultiScaleDeformableAttention' not in proc.stderr


def test_visualization_still_loads_on_use():
    code = ('import sys, asl_mmaction.visualization as v; '
            "print('matplotlib' in sys.modules, callable(v.draw_timelines))")
    proc = subprocess.run([sys.executable, '-c', code], cwd=str(REPO),
                          env=tool_env(), capture_output=True, text=True,
                          timeout=120)
    assert proc.stdout.split() == ['True', 'True'], proc.stderr[-2000:]

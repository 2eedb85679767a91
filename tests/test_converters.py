"""The annotation converters on the real files: round trips keep counts."""
import csv
import json
from collections import Counter
from pathlib import Path

import pytest

from dataset_fixtures import EGO4D_CLIPS, EPIC_DIR, shared_file
from run_helpers import load_script

TOOLS = Path(__file__).resolve().parents[1] / 'tools' / 'data'


def tool(relpath):
    return load_script(TOOLS / relpath).main


def summary(clips):
    """Per clip: subset, rounded duration and the sorted (segment, label)."""
    return {uid: (c['subset'], round(c['duration'], 6),
                  sorted((round(a['segment'][0], 6), round(a['segment'][1],
                                                           6), a['label'])
                         for a in c['annotations']))
            for uid, c in clips.items()}


def test_ego4d_clips_to_moments_and_back(tmp_path):
    src = shared_file(EGO4D_CLIPS)
    assert tool('ego4d/convert_clips_to_moments.py')(
        [str(src), '--out-dir', str(tmp_path)]) == 0
    files = [tmp_path / f for f in ('moments_train.json', 'moments_val.json',
                                    'moments_test_unannotated.json')]
    moments = [json.loads(f.read_text()) for f in files]
    counts = [sum(len(v['clips']) for v in m['videos']) for m in moments]
    assert counts == [1486, 521, 488]
    assert all('annotations' not in c for v in moments[2]['videos']
               for c in v['clips'])
    classes = (tmp_path / 'ego4d_mq_classes.txt').read_text().splitlines()
    assert len(classes) == 110
    out = tmp_path / 'clips.json'
    assert tool('ego4d/convert_moments_to_clips.py')(
        [*map(str, files), '--out', str(out), '--class-names',
         str(tmp_path / 'ego4d_mq_classes.txt')]) == 0
    original = json.loads(src.read_text())
    back = json.loads(out.read_text())
    assert summary(back) == summary(original)
    ids = {a['label']: a['label_id'] for c in original.values()
           for a in c['annotations']}
    assert all(a['label_id'] == ids[a['label']] for c in back.values()
               for a in c['annotations'])
    assert sum(len(c['annotations']) for c in back.values()) == 17855


def test_ego4d_converter_drops_unlabelled_and_non_primary(tmp_path):
    data = dict(videos=[dict(video_uid='v', split='val', clips=[
        dict(clip_uid='c1', video_start_sec=0.0, video_end_sec=60.0,
             annotations=[dict(annotator_uid='a', labels=[
                 dict(start_time=1, end_time=2, label='x', primary=True),
                 dict(start_time=1, end_time=2, label='y', primary=False)])]),
        dict(clip_uid='c2', video_start_sec=60.0, video_end_sec=120.0,
             annotations=[])])])
    (tmp_path / 'm.json').write_text(json.dumps(data))
    main = tool('ego4d/convert_moments_to_clips.py')
    main([str(tmp_path / 'm.json'), '--out', str(tmp_path / 'o.json')])
    out = json.loads((tmp_path / 'o.json').read_text())
    assert list(out) == ['c1'] and len(out['c1']['annotations']) == 1
    main([str(tmp_path / 'm.json'), '--out', str(tmp_path / 'o.json'),
          '--all-labels'])
    out = json.loads((tmp_path / 'o.json').read_text())
    assert [a['label_id'] for a in out['c1']['annotations']] == [0, 1]


@pytest.mark.parametrize('task', ['verb', 'noun'])
def test_epic_csv_to_json_and_back(tmp_path, task):
    val = shared_file(EPIC_DIR / 'EPIC_100_validation.csv')
    class_file = str(EPIC_DIR / f'EPIC_100_{task}_classes.csv')
    out = tmp_path / 'epic.json'
    assert tool('epic_kitchens/convert_csv_to_json.py')(
        [str(val), '--video-info', str(EPIC_DIR / 'EPIC_100_video_info.csv'),
         '--class-file', class_file, '--task', task, '--out', str(out)]) == 0
    db = json.loads(out.read_text())['database']
    assert len(db) == 138
    assert {v['subset'] for v in db.values()} == {'validation'}
    assert sum(len(v['annotations']) for v in db.values()) == 9668
    assert tool('epic_kitchens/convert_json_to_csv.py')(
        [str(out), '--task', task, '--class-file', class_file,
         '--out-dir', str(tmp_path)]) == 0
    with open(val, newline='') as f:
        original = list(csv.DictReader(f))
    with open(tmp_path / 'EPIC_100_validation.csv', newline='') as f:
        back = list(csv.DictReader(f))

    def key(rows):
        return Counter((r['video_id'], r['start_timestamp'],
                        r['stop_timestamp'], int(r[f'{task}_class']))
                       for r in rows)
    assert len(back) == 9668 and key(back) == key(original)


def test_cut_clip_features_from_video_features(tmp_path):
    import numpy as np
    import torch
    from mmaction.registry import DATASETS
    video = np.arange(200, dtype=np.float32)[:, None].repeat(3, 1)
    (tmp_path / 'video').mkdir()
    torch.save(torch.from_numpy(video), tmp_path / 'video' / 'v.pt')
    clips = {'c1': dict(video_id='v', subset='val', duration=30.0,
                        parent_start_sec=15.0, parent_end_sec=45.0,
                        annotations=[dict(segment=[1, 2], label='x',
                                          label_id=0)])}
    (tmp_path / 'ann.json').write_text(json.dumps(clips))
    assert tool('ego4d/cut_clip_features.py')(
        [str(tmp_path / 'ann.json'), str(tmp_path / 'video'),
         str(tmp_path / 'clips')]) == 0
    cut = np.load(tmp_path / 'clips' / 'c1.npy')
    # 15 s = step 15 * 30 / 16 = 28.1 -> 28; 30 s holds 55 windows of 32
    assert cut.shape == (55, 3) and cut[0, 0] == 28 and cut[-1, 0] == 82
    ds = DATASETS.build(dict(type='Ego4DMQDataset',
                             ann_file=str(tmp_path / 'ann.json'),
                             feat_dirs=str(tmp_path / 'clips'), fps=30.0,
                             feat_stride=16, num_frames=32, feat_dims=3,
                             test_mode=True))
    assert ds.get_data_info(0)['feat_len_on_disk'] == 55

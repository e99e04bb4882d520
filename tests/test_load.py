"`zoo.load` returns one type, `Loaded`, for every name of both tracks (issue 17); the Colab ones are built as the harness's tiny stand-ins."
import json, os, subprocess, sys, textwrap
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent('''
    import json, sys, torch
    sys.path.insert(0, sys.argv[1])
    import colab_check; colab_check.install_standins()      # hub models as tiny stand-ins, offline
    from tl_course.zoo import load, Loaded, LAPTOP_MODELS, HUB_MODELS
    out = {}
    for name in [*LAPTOP_MODELS, *HUB_MODELS]:
        for num_labels in (None, 3):
            if num_labels and name == 'ViT-B-32': continue
            m = load(name, num_labels=num_labels)
            assert type(m) is Loaded, (name, type(m))
            assert isinstance(m.model, torch.nn.Module) and not m.model.training, name
            assert m.tokenizer is not None or m.preprocess is not None, name
            row = dict(track=m.track, model=type(m.model).__name__, tokenizer=m.tokenizer is not None, preprocess=m.preprocess is not None)
            if num_labels and m.tokenizer is not None:
                batch = m.tokenizer(['a short text', 'and another, longer one'], padding=True, return_tensors='pt')
                row['logits'] = list(m.model(batch['input_ids'], batch['attention_mask']).logits.shape)
            elif num_labels:
                row['logits'] = list(m.model(torch.zeros(2, 3, 64, 64)).shape)
            out[f"{name}|{num_labels}"] = row
    print(json.dumps(out))
''')

@pytest.fixture(scope='module')
def loaded():
    env = {**os.environ, 'HF_HUB_OFFLINE': '1', 'TL_COURSE_OFFLINE': '1'}
    r = subprocess.run([sys.executable, '-c', SCRIPT, str(ROOT/'tools')], capture_output=True, text=True, env=env, cwd=ROOT, timeout=900)
    assert r.returncode == 0, r.stderr[-4000:]
    return json.loads(r.stdout.strip().splitlines()[-1])

def test_every_name_gives_loaded(loaded):
    from tl_course.zoo import LAPTOP_MODELS, HUB_MODELS
    names = {k.split('|')[0] for k in loaded}
    assert names == set(LAPTOP_MODELS) | set(HUB_MODELS)
    for k, row in loaded.items():
        assert row['track'] == ('laptop' if k.split('|')[0] in LAPTOP_MODELS else 'colab'), (k, row)

def test_num_labels_gives_a_head_of_that_size(loaded):
    heads = {k: r['logits'] for k, r in loaded.items() if k.endswith('|3')}
    assert len(heads) == 6, heads
    for k, shape in heads.items(): assert shape == [2, 3], (k, shape)

def test_text_and_image_models_carry_their_input_preparation(loaded):
    assert loaded['minilm|None']['tokenizer'] and loaded['smollm2|None']['tokenizer'] and loaded['bert-base-uncased|None']['tokenizer']
    assert loaded['efficientnet_lite0|None']['preprocess'] and loaded['resnet50|None']['preprocess']
    assert loaded['ViT-B-32|None']['preprocess'] and loaded['ViT-B-32|None']['tokenizer']

def test_offline_error_unchanged():
    from unittest.mock import patch
    from tl_course.zoo import load, HubUnavailable
    with patch.dict(os.environ, {'HF_HUB_OFFLINE': '1', 'TL_COURSE_SMOKE': ''}):
        with pytest.raises(HubUnavailable, match=r"use tl_course.zoo.load\('minilm'\)"): load('bert-base-uncased', num_labels=2)

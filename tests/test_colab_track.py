"Colab track (issue 13): the device-mixing check, the harness's cell selection and stand-ins, the install cell."
import json, re, subprocess, sys, textwrap
from pathlib import Path
import pytest, torch
from torch import nn
import torch.nn.functional as F
from tl_course.zoo import DeviceMixCheck

ROOT = Path(__file__).resolve().parents[1]
NBS = sorted((ROOT/'nbs').glob('[0-9]*.ipynb'))
sys.path.insert(0, str(ROOT/'tools'))
import colab_check  # noqa: E402  (importing it patches nothing; install_standins() does)


# ---------------------------------------------------------------- device mixing, chapter 5's DANN step
class _Net(nn.Module):                                    # the DigitNet interface: features, classifier, domain
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Flatten(), nn.Linear(3 * 28 * 28, 16), nn.ReLU())
        self.classifier, self.domain = nn.Linear(16, 10), nn.Linear(16, 1)

def _dann_step(model, xs, ys, xt, bs, targets):
    from tl_course.domain_adaptation import grad_reverse
    fs, ft = model.features(torch.cat([xs, xt])).split(bs)
    loss = F.cross_entropy(model.classifier(fs), ys)
    d = model.domain(grad_reverse(torch.cat([fs, ft]), 1.0)).squeeze(1)
    loss = loss + F.binary_cross_entropy_with_logits(d, targets(d, bs))
    loss.backward()

ORIGINAL = lambda d, bs: torch.cat([torch.zeros(bs), torch.ones(bs)])     # chapter 5 before the fix: made on the CPU
FIXED = lambda d, bs: torch.cat([torch.zeros(bs, device=d.device), torch.ones(bs, device=d.device)])

def _meta_batch(bs=4):
    return (torch.randn(bs, 3, 28, 28, device='meta'), torch.randint(0, 10, (bs,), device='meta'),
            torch.randn(bs, 3, 28, 28, device='meta'))

def test_device_check_catches_chapter5_original_targets():
    model = _Net().to('meta')
    with DeviceMixCheck(), pytest.raises(RuntimeError, match=r"mixes devices \['cpu', 'meta'\]"):
        _dann_step(model, *_meta_batch(), 4, ORIGINAL)

def test_device_check_passes_fixed_targets():
    model = _Net().to('meta')
    with DeviceMixCheck(): _dann_step(model, *_meta_batch(), 4, FIXED)

def test_device_check_passes_on_one_device():
    model = _Net()
    xs, ys, xt = (t.to('cpu') if t.is_floating_point() else t for t in (torch.randn(4, 3, 28, 28), torch.randint(0, 10, (4,)), torch.randn(4, 3, 28, 28)))
    with DeviceMixCheck(): _dann_step(model, xs, ys, xt, 4, ORIGINAL)     # everything on the CPU: nothing to flag

@pytest.mark.parametrize('method', ['source only', 'DANN', 'CORAL', 'MMD'])
def test_train_da_runs_on_a_device_without_cpu_tensors(method):
    "The real train_da, one step with model and data on the meta device: no tensor may be made on the CPU inside the step."
    from tl_course.domain_adaptation import train_da
    xs, ys, xt = _meta_batch(8)
    with DeviceMixCheck():
        try: train_da(method, xs, ys, xt, epochs=1, bs=8, model=_Net().to('meta'))
        except NotImplementedError as e: pytest.skip(f"an op has no meta kernel here: {e}")
        except RuntimeError as e:
            if 'meta tensors' not in str(e): raise
            pytest.skip(f"{method} reads a value (input check) that the meta device does not have: {e}")


# ---------------------------------------------------------------- harness: cell selection
@pytest.mark.parametrize('nb', NBS, ids=lambda p: p.name)
def test_every_gpu_cell_is_selected(nb):
    cells = json.loads(nb.read_text())['cells']
    gpu = [i for i, c in enumerate(cells) if c['cell_type'] == 'code' and 'gpu' in colab_check.cell_flags(''.join(c['source']))]
    assert set(gpu) <= set(colab_check.select_cells(cells))

def test_selection_follows_dependencies_not_everything():
    cell = lambda s: {'cell_type': 'code', 'source': [s]}
    cells = [cell('import torch'), cell('a = 1'), cell('b = heavy()'), cell('def f(x): return x + a'), cell('c = 2\nc = c + 1'),
             cell('#| gpu\nprint(f(c))')]
    assert colab_check.select_cells(cells) == [0, 1, 3, 4, 5]        # not the heavy cell nobody reads

def test_cells_flags_and_magics():
    assert colab_check.cell_flags('#| gpu\n#| hide\nx = 1\n#| notest') == {'gpu', 'hide'}
    bound, read, _ = colab_check.names("!pip install x\nimport sys\ny = sys.argv + z")
    assert {'sys', 'y'} <= bound and 'z' in read and 'y' not in read


# ---------------------------------------------------------------- harness: stand-ins (in a subprocess: they patch libraries)
def _run_standins(code):
    script = "import sys; sys.path.insert(0, 'tools'); import colab_check as cc; cc.install_standins(); cc.error_filters()\n" + textwrap.dedent(code)
    r = subprocess.run([sys.executable, '-c', script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return r.stdout

def test_standins_keep_the_real_apis():
    out = _run_standins('''
        import warnings, open_clip, torch
        from tl_course.zoo import load
        from tl_course.data import torchvision_dataset, hf_dataset
        # open_clip's QuickGELU check still runs, and is an error under the harness
        try: open_clip.create_model_and_transforms('ViT-B-32', pretrained='openai'); print('no error')
        except UserWarning as e: print('quickgelu error:', 'QuickGELU mismatch' in str(e))
        clip = load('ViT-B-32'); m, pre, tok = clip.model, clip.preprocess, clip.tokenizer   # tl_course.zoo forces QuickGELU for OpenAI weights
        print('clip', m.encode_image(pre(__import__('PIL.Image', fromlist=['x']).new('RGB', (50, 40)))[None]).shape[0])
        b = load('bert-base-uncased'); bert, btok = b.model, b.tokenizer
        print('bert', type(bert).__name__, bert.config.num_hidden_layers, type(btok).__name__, btok('a film')['input_ids'][:1])
        tr, te = torchvision_dataset('EuroSAT', train=True), torchvision_dataset('EuroSAT', train=False)
        print('eurosat', len(tr), len(te), len(set(tr.indices) & set(te.indices)))
        c100 = torchvision_dataset('CIFAR100', train=False)
        print('cifar100', len(c100), sum('_' in c for c in c100.classes), c100.classes[1])
        imdb = hf_dataset('imdb', 'train')
        print('imdb', len(imdb), imdb.features['label'].names, imdb.column_names)
    ''')
    assert 'quickgelu error: True' in out
    assert 'clip 1' in out
    assert re.search(r"bert BertModel 12 \w+ \[101\]", out)
    assert 'eurosat 21600 5400 0' in out
    assert 'cifar100 10000 0 aquarium fish' in out
    assert "imdb 25000 ['neg', 'pos'] ['text', 'label']" in out


# ---------------------------------------------------------------- the Colab install cell and warnings
def _version():
    return re.search(r'__version__\s*=\s*"([^"]+)"', (ROOT/'tl_course'/'__init__.py').read_text())[1]

@pytest.mark.parametrize('nb', NBS, ids=lambda p: p.name)
def test_install_cell_pins_the_course_version(nb):
    first = next(c for c in json.loads(nb.read_text())['cells'] if c['cell_type'] == 'code')
    src = ''.join(first['source'])
    assert "'google.colab' in sys.modules" in src
    assert f"tl_course@v{_version()}" in src, "pin the install to this version of the course"
    assert 'jupyterlab' not in src and 'Restart session' in src

def test_jupyterlab_is_not_a_runtime_dependency():
    import tomllib
    proj = tomllib.loads((ROOT/'pyproject.toml').read_text())['project']
    assert not any(d.startswith('jupyterlab') for d in proj['dependencies'])
    assert any(d.startswith('datasets') for d in proj['dependencies'])
    assert 'jupyterlab' in proj['optional-dependencies']['local']

@pytest.mark.parametrize('nb', NBS + [ROOT/'nbs'/'index.ipynb'], ids=lambda p: p.name)
def test_no_global_warning_silencing(nb):
    "Issue 13: silence specific, named warnings only; a blanket ignore hides wrong results (QuickGELU, dtype fallbacks)."
    for c in json.loads(nb.read_text())['cells']:
        if c['cell_type'] != 'code': continue
        for call in re.findall(r"warnings\.(?:filterwarnings|simplefilter)\(([^)]*)\)", ''.join(c['source'])):
            assert not re.fullmatch(r"\s*'ignore'\s*(,\s*category\s*=\s*\w+\s*)?", call), f"blanket warnings ignore: {call!r}"

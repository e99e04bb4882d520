"""Colab-track harness: execute every `#| gpu` cell of every notebook in nbs/ on tiny stand-ins (issue 13).

    python tools/colab_check.py [NOTEBOOK ...] [--out test-artifacts/colab-track.json]      (make colab-check)

Which cells run
    Per notebook, in one IPython shell (execnb's CaptureShell, as nbdev-test uses), in notebook order: every `#| gpu`
    cell, plus the non-gpu cells they need, found statically: cells that only import, `#| export` cells (module code,
    cheap by construction), and, walking backwards from each gpu cell, every earlier cell that binds a global name a
    selected cell reads (`symtable` on the IPython-transformed source, so names read inside functions count and
    locals do not). The laptop-track experiments the gpu cells do not depend on are skipped: they take minutes and
    nbdev-test runs them anyway. A selected cell that fails stops its notebook; its gpu cells are then `not run`.

What changes under the harness (only sizes; the code a Colab user runs is the code that is executed)
    - `TL_COURSE_SMOKE=1`: `tl_course.zoo.hub_available` says yes and `tl_course.zoo.smoke_size(full, small)`, the one
      switch cells use for loops that are not DataLoaders, returns `small`.
    - transformers `from_pretrained(<hub name>)` (models, configs, tokenizers) loads a local folder holding the same
      model type with a narrow config (same depth, width 32, random) and a real tokenizer built offline: the
      bert-base-uncased vocabulary ships with all-MiniLM-L6-v2; decoder LMs get SmolLM2's tokenizer. Every other
      argument (num_labels, quantization_config, dtype, ...) goes to the real `from_pretrained`.
    - torchvision weight enums: random init (`load_state_dict` of the weights is skipped) and their `transforms()`
      at 32 px; open_clip `create_model_and_transforms(name, pretrained=tag)`: the real factory (its QuickGELU check
      included) with the download skipped and a narrow 2-layer config (image size kept).
    - `datasets.load_dataset` and torchvision dataset classes: lazy in-memory sets with the real lengths, splits,
      column names, features and class names; CIFAR-10.1's .npy files for `urllib.request.urlopen`.
    - every DataLoader yields at most 2 batches (num_workers=0); HF `Trainer` runs 2 steps.
    - no CUDA here: `cuda` devices are mapped to the CPU by a TorchFunctionMode, fp16/paged-8-bit Trainer options
      that need CUDA fall back, `torch.cuda` memory counters read 0. With CUDA the cells run unmodified.
    Device bugs that the CPU mapping hides are caught by `tl_course.zoo.DeviceMixCheck` (tests/test_colab_track.py).

Warnings that mean a wrong result are errors here only: open_clip's QuickGELU mismatch, bitsandbytes compute-dtype
fallbacks, autocast disabling itself, and FutureWarning / DeprecationWarning attributed to notebook or tl_course code.
They are re-applied after every cell, so a notebook's own `warnings.filterwarnings('ignore')` cannot hide them.

Output: test-artifacts/colab-track.json, one entry per `#| gpu` cell (notebook, cell index, status, seconds, error);
the exit status is 1 if any gpu cell failed or was not run.
"""
from __future__ import annotations
import argparse, ast, io, json, os, re, sys, symtable, time, traceback, warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_BATCHES, MAX_STEPS = 2, 2

# ---------------------------------------------------------------- cell selection
FLAG_RE = re.compile(r'^\s*#\|\s*(.*)$')

def cell_flags(src: str) -> set:
    "Directives of a cell (`#| gpu`, `#| export`, ...) as a set of words."
    out = set()
    for line in src.splitlines():
        m = FLAG_RE.match(line)
        if m: out.update(m[1].split())
        elif line.strip(): break
    return out

def python_source(src: str) -> str:
    "The cell as plain Python (IPython magics and `!` lines transformed)."
    from IPython.core.inputtransformer2 import TransformerManager
    return TransformerManager().transform_cell(src)

def _stmt_names(code: str):
    "(bound, read) global names of one statement: what it binds, what it reads (also inside its functions)."
    top = symtable.symtable(code, '<cell>', 'exec')
    bound, read = set(), set()
    for s in top.get_symbols():
        if s.is_assigned() or s.is_imported() or s.is_namespace(): bound.add(s.get_name())
        if s.is_referenced(): read.add(s.get_name())
    def walk(t):
        for c in t.get_children():
            for s in c.get_symbols():
                if s.is_global(): read.add(s.get_name())
                if s.is_declared_global() and s.is_assigned(): bound.add(s.get_name())
            walk(c)
    walk(top)
    return bound, read

def names(src: str):
    "(bound, read, star) of a cell: globals it binds, globals it reads before binding them, whether it star-imports."
    try: tree = ast.parse(python_source(src))
    except SyntaxError: return set(), set(), False
    star = any(isinstance(n, ast.ImportFrom) and any(a.name == '*' for a in n.names) for n in ast.walk(tree))
    bound, read = set(), set()
    for stmt in tree.body:                       # in order: a name bound by an earlier statement is not a dependency
        b, r = _stmt_names(ast.unparse(stmt))
        read |= r - bound - b if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) else r - bound
        bound |= b
    return bound, read, star

def import_only(src: str) -> bool:
    try: body = ast.parse(python_source(src)).body
    except SyntaxError: return False
    return bool(body) and all(isinstance(n, (ast.Import, ast.ImportFrom)) for n in body)

def select_cells(cells: list) -> list:
    "Indices (into `cells`) of the code cells to run: gpu cells and what they depend on, in notebook order."
    code = [i for i, c in enumerate(cells) if c['cell_type'] == 'code']
    src = {i: ''.join(cells[i]['source']) for i in code}
    flags = {i: cell_flags(src[i]) for i in code}
    gpu = [i for i in code if 'gpu' in flags[i]]
    if not gpu: return []
    info = {i: names(src[i]) for i in code}
    keep = {i for i in code if i < max(gpu) and (import_only(src[i]) or info[i][2] or flags[i] & {'export', 'exports', 'exporti'})}
    keep |= set(gpu)
    need = set()
    for i in reversed([i for i in code if i <= max(gpu)]):
        bound, read, _ = info[i]
        if i in keep or bound & need:
            keep.add(i)
            need = (need - bound) | read
    return sorted(keep)

# ---------------------------------------------------------------- stand-ins
CIFAR10 = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']
CIFAR100 = ('apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus butterfly camel can castle '
            'caterpillar cattle chair chimpanzee clock cloud cockroach couch crab crocodile cup dinosaur dolphin elephant flatfish '
            'forest fox girl hamster house kangaroo keyboard lamp lawn_mower leopard lion lizard lobster man maple_tree motorcycle '
            'mountain mouse mushroom oak_tree orange orchid otter palm_tree pear pickup_truck pine_tree plain plate poppy porcupine '
            'possum rabbit raccoon ray road rocket rose sea seal shark shrew skunk skyscraper snail snake spider squirrel streetcar '
            'sunflower sweet_pepper table tank telephone television tiger tractor train trout tulip turtle wardrobe whale '
            'willow_tree wolf woman worm').split()
PETS = ['Abyssinian', 'American Bulldog', 'American Pit Bull Terrier', 'Basset Hound', 'Beagle', 'Bengal', 'Birman', 'Bombay',
        'Boxer', 'British Shorthair', 'Chihuahua', 'Egyptian Mau', 'English Cocker Spaniel', 'English Setter', 'German Shorthaired',
        'Great Pyrenees', 'Havanese', 'Japanese Chin', 'Keeshond', 'Leonberger', 'Maine Coon', 'Miniature Pinscher', 'Newfoundland',
        'Persian', 'Pomeranian', 'Pug', 'Ragdoll', 'Russian Blue', 'Saint Bernard', 'Samoyed', 'Scottish Terrier', 'Shiba Inu',
        'Siamese', 'Sphynx', 'Staffordshire Bull Terrier', 'Wheaten Terrier', 'Yorkshire Terrier']
EUROSAT = ['AnnualCrop', 'Forest', 'HerbaceousVegetation', 'Highway', 'Industrial', 'Pasture', 'PermanentCrop', 'Residential', 'River', 'SeaLake']
DIGIT_NAMES = ['0 - zero', '1 - one', '2 - two', '3 - three', '4 - four', '5 - five', '6 - six', '7 - seven', '8 - eight', '9 - nine']
# name -> (split keyword or 'train' bool or None, {split: length}, (H, W), PIL mode, classes)
TV_SPECS = {
    'CIFAR10': ('train', {True: 50000, False: 10000}, (32, 32), 'RGB', CIFAR10),
    'CIFAR100': ('train', {True: 50000, False: 10000}, (32, 32), 'RGB', CIFAR100),
    'OxfordIIITPet': ('split', {'trainval': 3680, 'test': 3669}, (48, 64), 'RGB', PETS),
    'EuroSAT': (None, {None: 27000}, (64, 64), 'RGB', EUROSAT),
    'MNIST': ('train', {True: 60000, False: 10000}, (28, 28), 'L', DIGIT_NAMES),
    'USPS': ('train', {True: 7291, False: 2007}, (16, 16), 'L', [str(i) for i in range(10)]),
    'SVHN': ('split', {'train': 73257, 'test': 26032, 'extra': 531131}, (32, 32), 'RGB', [str(i) for i in range(10)]),
}

def fake_torchvision_class(name):
    import numpy as np, torch, torchvision.datasets as tvd
    from PIL import Image
    kw, sizes, (h, w), mode, classes = TV_SPECS[name]
    real = getattr(tvd, name)
    class Fake(torch.utils.data.Dataset):
        __doc__ = f"Stand-in for torchvision.datasets.{name}: real length and class names, random images."
        url = f"https://{_host_of(real)}/stand-in"
        def __init__(self, root, *args, transform=None, target_transform=None, download=False, **kwargs):
            key = kwargs.pop('train', args[0] if args else True) if kw == 'train' else (kwargs.pop('split', args[0] if args else 'train') if kw == 'split' else None)
            if name == 'OxfordIIITPet': kwargs.pop('target_types', None)
            if kwargs: raise TypeError(f"{name}() got unexpected arguments {sorted(kwargs)}")
            if key not in sizes: raise ValueError(f"{name}: unknown split {key!r}, expected one of {list(sizes)}")
            self.n, self.transform, self.target_transform = sizes[key], transform, target_transform
            self.classes = list(classes); self.class_to_idx = {c: i for i, c in enumerate(self.classes)}
            self.root = root
        def __len__(self): return self.n
        def __getitem__(self, i):
            if not -self.n <= i < self.n: raise IndexError(i)
            rng = np.random.default_rng(i % self.n)
            shape = (h, w, 3) if mode == 'RGB' else (h, w)
            img = Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode=mode)
            y = int(i % self.n % len(self.classes))
            if self.transform is not None: img = self.transform(img)
            if self.target_transform is not None: y = self.target_transform(y)
            return img, y
    Fake.__name__ = Fake.__qualname__ = name
    return Fake

def _host_of(cls):
    for k in cls.__mro__:
        for v in vars(k).values():
            m = re.search(r'https?://([^/\s\'"]+)/', repr(v))
            if m: return m[1]
    return 'download.pytorch.org'

WORDS = ('the a film movie story plot actor great good bad boring fun slow brilliant awful long short music scene ending '
         'character funny sad best worst love hate watch again never always really quite very not but and or is was').split()

def _texts(n, seed, lo=8, hi=40):
    import numpy as np
    rng = np.random.default_rng(seed)
    lens = rng.integers(lo, hi, n); idx = rng.integers(0, len(WORDS), lens.sum())
    out, k = [], 0
    for L in lens: out.append(' '.join(WORDS[j] for j in idx[k:k+L])); k += L
    return out

def _hf_specs():
    from datasets import Features, Value, ClassLabel
    imdb = (Features({'text': Value('string'), 'label': ClassLabel(names=['neg', 'pos'])}), {'train': 25000, 'test': 25000, 'unsupervised': 50000})
    sst2 = (Features({'idx': Value('int32'), 'sentence': Value('string'), 'label': ClassLabel(names=['negative', 'positive'])}),
            {'train': 67349, 'validation': 872, 'test': 1821})
    alpaca = (Features({'output': Value('string'), 'input': Value('string'), 'instruction': Value('string')}), {'train': 51760})
    return {'imdb': imdb, 'stanfordnlp/imdb': imdb, 'stanfordnlp/sst2': sst2, 'sst2': sst2, 'glue/sst2': sst2, 'yahma/alpaca-cleaned': alpaca}

_HF_CACHE = {}
def fake_load_dataset(path, name=None, split=None, **kwargs):
    "Stand-in for `datasets.load_dataset`: the real columns, features and split lengths, random short texts."
    import numpy as np
    from datasets import Dataset, DatasetDict, ClassLabel, Value
    specs = _hf_specs()
    if path not in specs: raise RuntimeError(f"colab_check: no stand-in for the hub dataset {path!r}: add it to tools/colab_check.py _hf_specs")
    feats, sizes = specs[path]
    def make(s):
        if (path, s) not in _HF_CACHE:
            n, seed = sizes[s], abs(hash((path, s))) % 2**32
            cols = {}
            for j, (col, f) in enumerate(feats.items()):
                if isinstance(f, ClassLabel): cols[col] = (np.arange(n) % f.num_classes).tolist() if s != 'unsupervised' else [-1] * n
                elif f.dtype.startswith('int'): cols[col] = list(range(n))
                else: cols[col] = _texts(n, seed + j)
            _HF_CACHE[path, s] = Dataset.from_dict(cols, features=feats)
        return _HF_CACHE[path, s]
    if split is None: return DatasetDict({s: make(s) for s in sizes})
    base = re.match(r'^(\w+)', split)[1]
    if base not in sizes: raise ValueError(f'Unknown split "{split}". Should be one of {list(sizes)}.')
    ds = make(base)
    m = re.match(r'^\w+\[(\d*)(%?):(\d*)(%?)\]$', split)
    if m:
        a = int(m[1] or 0) * (len(ds) // 100 if m[2] else 1); b = int(m[3]) * (len(ds) // 100 if m[4] else 1) if m[3] else len(ds)
        ds = ds.select(range(a, b))
    return ds

CIFAR101_N = 2000
def fake_urlopen(url, *args, **kwargs):
    "Stand-in for `urllib.request.urlopen` for the files the Colab cells fetch (CIFAR-10.1)."
    import numpy as np, urllib.error
    u = url if isinstance(url, str) else url.full_url
    rng = np.random.default_rng(0); buf = io.BytesIO()
    if re.search(r'CIFAR-10\.1/.*_data\.npy$', u): np.save(buf, rng.integers(0, 256, (CIFAR101_N, 32, 32, 3), dtype=np.uint8))
    elif re.search(r'CIFAR-10\.1/.*_labels\.npy$', u): np.save(buf, (np.arange(CIFAR101_N) % 10).astype(np.int64))
    else: raise urllib.error.URLError(f"colab_check: no stand-in for {u}")
    buf.seek(0); return buf

# transformers hub names -> (model type, narrow config, tokenizer source, causal LM?)
HF_MODELS = {
    'bert-base-uncased': ('bert', dict(hidden_size=32, num_hidden_layers=12, num_attention_heads=2, intermediate_size=64,
                                       max_position_embeddings=512, vocab_size=30522), 'minilm', False),
    'Qwen/Qwen2.5-0.5B-Instruct': ('qwen2', dict(hidden_size=64, num_hidden_layers=24, num_attention_heads=4, num_key_value_heads=2,
                                                  intermediate_size=64, max_position_embeddings=2048, tie_word_embeddings=True), 'smollm2', True),
}
_HF_DIRS = {}
def hf_standin_dir(name) -> str:
    "A local folder with a narrow random model of `name`'s type and a real tokenizer, made once per run."
    if name in _HF_DIRS: return _HF_DIRS[name]
    import tempfile, torch, transformers
    mtype, cfg_kw, tok_src, causal = HF_MODELS[name]
    d = Path(tempfile.mkdtemp(prefix='colab-standin-'))
    orig = _ORIG
    if tok_src == 'minilm':
        from tl_course.zoo import minilm_dir
        tok = orig['tok'](transformers.AutoTokenizer, str(minilm_dir()))
    else:
        from tl_course.zoo import smollm2, cache_dir
        if not (cache_dir('smollm2-135m-instruct')/'model.safetensors').exists(): smollm2()
        tok = orig['tok'](transformers.AutoTokenizer, str(cache_dir('smollm2-135m-instruct')))
        cfg_kw = dict(cfg_kw, vocab_size=len(tok))
        for k in ('bos_token_id', 'eos_token_id', 'pad_token_id'):
            v = getattr(tok, k, None)
            if v is not None: cfg_kw[k] = v
    tok.save_pretrained(d)
    cfg = transformers.AutoConfig.for_model(mtype, **cfg_kw)
    torch.manual_seed(0)
    model = (transformers.AutoModelForCausalLM if causal else transformers.AutoModel).from_config(cfg)
    model.save_pretrained(d)
    _HF_DIRS[name] = str(d)
    return str(d)

_ORIG = {}
CPU_ONLY = None

def _resolve(name, kwargs):
    if isinstance(name, (str, os.PathLike)) and (os.path.isdir(name) or os.path.isfile(name)): return name
    if not isinstance(name, str): return name
    if name not in HF_MODELS: raise RuntimeError(f"colab_check: no stand-in for the hub model {name!r}: add it to tools/colab_check.py HF_MODELS")
    if CPU_ONLY and kwargs.get('device_map') is not None:
        dm = kwargs['device_map']
        kwargs['device_map'] = {k: 'cpu' for k in dm} if isinstance(dm, dict) else 'cpu'
    return hf_standin_dir(name)

def _wrap_from_pretrained(cls, key):
    f = cls.__dict__['from_pretrained'].__func__
    _ORIG.setdefault(key, f)
    def from_pretrained(klass, name, *args, **kwargs):
        return f(klass, _resolve(name, kwargs), *args, **kwargs)
    from_pretrained.__doc__ = f.__doc__
    cls.from_pretrained = classmethod(from_pretrained)

class _RandomInit(dict):
    "Returned by a torchvision weight enum under the harness: the model keeps its random init."

def _shrink_clip_cfg(cfg):
    import copy
    cfg = copy.deepcopy(cfg)
    cfg['embed_dim'] = 32
    v, t = cfg['vision_cfg'], cfg['text_cfg']
    if 'timm_model_name' not in v: v.update(width=64, layers=2, head_width=32)   # image size kept: cells may resize to it themselves
    if 'hf_model_name' not in t: t.update(width=64, heads=2, layers=2)
    return cfg

def install_standins():
    "Patch the hub-facing APIs with stand-ins (see the module docstring), and turn on the notebooks' one size switch."
    os.environ['TL_COURSE_SMOKE'] = '1'                  # here, not at import: importing the module (tests do) must change nothing
    os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false')
    global CPU_ONLY
    import torch, torchvision, torchvision.datasets as tvd, torch.utils.data as tud, urllib.request
    import transformers, datasets, open_clip, open_clip.factory as ocf
    from torchvision.models._api import WeightsEnum
    from transformers.models.auto.auto_factory import _BaseAutoModelClass
    from transformers.tokenization_utils_base import PreTrainedTokenizerBase
    CPU_ONLY = not torch.cuda.is_available()
    # transformers
    _wrap_from_pretrained(transformers.AutoTokenizer, 'tok')
    _wrap_from_pretrained(PreTrainedTokenizerBase, 'tokbase')
    _wrap_from_pretrained(transformers.AutoConfig, 'autocfg')
    _wrap_from_pretrained(_BaseAutoModelClass, 'auto')
    for n in dir(transformers):                          # each Auto* class carries its own copy of from_pretrained (auto_class_update)
        c = getattr(transformers, n, None) if n.startswith('AutoModel') else None
        if isinstance(c, type) and issubclass(c, _BaseAutoModelClass) and 'from_pretrained' in c.__dict__: _wrap_from_pretrained(c, 'auto:' + n)
    _wrap_from_pretrained(transformers.PreTrainedModel, 'model')
    cfg_base = getattr(transformers, 'PreTrainedConfig', None) or transformers.PretrainedConfig
    _wrap_from_pretrained(cfg_base, 'cfg')
    # torchvision weights: random init, small transforms
    WeightsEnum.get_state_dict = lambda self, *a, **k: _RandomInit()
    lsd = torch.nn.Module.load_state_dict
    def load_state_dict(self, state_dict, *a, **k):
        if isinstance(state_dict, _RandomInit): return torch.nn.modules.module._IncompatibleKeys([], [])
        return lsd(self, state_dict, *a, **k)
    torch.nn.Module.load_state_dict = load_state_dict
    from functools import partial
    from torchvision.transforms._presets import ImageClassification
    WeightsEnum.transforms = property(lambda self: partial(ImageClassification, crop_size=32, resize_size=36))
    # torchvision datasets, hub datasets, urls
    for name in TV_SPECS: setattr(tvd, name, fake_torchvision_class(name))
    datasets.load_dataset = fake_load_dataset
    urllib.request.urlopen = fake_urlopen
    # open_clip: the real factory, no download, a narrow config
    ocf.download_pretrained = lambda cfg, *a, **k: None
    gmc = ocf.get_model_config
    ocf.get_model_config = lambda name: (lambda c: c and _shrink_clip_cfg(c))(gmc(name))
    # loops: at most MAX_BATCHES per DataLoader pass, MAX_STEPS per Trainer
    dl_init, dl_iter, dl_len = tud.DataLoader.__init__, tud.DataLoader.__iter__, tud.DataLoader.__len__
    def init(self, *a, **k):
        k['num_workers'] = 0; k.pop('prefetch_factor', None); k.pop('persistent_workers', None)
        dl_init(self, *a, **k)
    import itertools
    tud.DataLoader.__init__ = init
    tud.DataLoader.__iter__ = lambda self: itertools.islice(dl_iter(self), MAX_BATCHES)
    tud.DataLoader.__len__ = lambda self: min(dl_len(self), MAX_BATCHES)
    tr_init = transformers.Trainer.__init__
    def trainer_init(self, *a, **k):
        tr_init(self, *a, **k)
        self.args.max_steps = MAX_STEPS if self.args.max_steps <= 0 else min(self.args.max_steps, MAX_STEPS)
        self.args.save_strategy = 'no'
    transformers.Trainer.__init__ = trainer_init
    if CPU_ONLY: _emulate_cuda_on_cpu()

def _emulate_cuda_on_cpu():
    "No GPU here: run what Colab puts on `cuda` on the CPU (DeviceMixCheck covers the device bugs this hides)."
    import torch, transformers
    for f in ('max_memory_allocated', 'memory_allocated', 'max_memory_reserved', 'memory_reserved'):
        setattr(torch.cuda, f, lambda *a, **k: 0)
    for f in ('reset_peak_memory_stats', 'empty_cache', 'synchronize', 'reset_max_memory_allocated'):
        setattr(torch.cuda, f, lambda *a, **k: None)
    ta_post = transformers.TrainingArguments.__post_init__
    def post_init(self):
        self.fp16 = self.bf16 = False                                # fp16 needs CUDA (checked as is on a GPU)
        if 'paged' in str(self.optim) or '8bit' in str(self.optim): self.optim = 'adamw_torch'
        self.use_cpu = True
        ta_post(self)
    transformers.TrainingArguments.__post_init__ = post_init

def cuda_as_cpu_mode():
    import torch
    from torch.overrides import TorchFunctionMode
    def fix(d):
        if isinstance(d, torch.device) and d.type == 'cuda': return torch.device('cpu')
        if isinstance(d, str) and d.split(':')[0] == 'cuda': return 'cpu'
        return d
    class CudaAsCpu(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = dict(kwargs or {})
            if 'device' in kwargs: kwargs['device'] = fix(kwargs['device'])
            name = getattr(func, '__name__', '')
            if name == 'cuda': return args[0].cpu() if not kwargs.get('non_blocking') else args[0].cpu()
            if name == 'to' and len(args) > 1:
                a1 = args[1]
                if isinstance(a1, int) and not isinstance(a1, bool): a1 = 'cpu'
                args = (args[0], fix(a1)) + tuple(args[2:])
            return func(*args, **kwargs)
    return CudaAsCpu()

def error_filters():
    "Warnings that mean a wrong result: errors, for the harness only (re-applied after every cell)."
    warnings.filterwarnings('error', message=r'.*QuickGELU mismatch.*')
    warnings.filterwarnings('error', message=r'.*Input type into Linear4bit is.*')
    warnings.filterwarnings('error', message=r'.*autocast.*(not supported|Disabling).*')
    warnings.filterwarnings('error', category=FutureWarning, module=r'(__main__|tl_course)')
    warnings.filterwarnings('error', category=DeprecationWarning, module=r'(__main__|tl_course)')

# ---------------------------------------------------------------- running
def run_notebook(path: Path, timeout: int = 600, partial: Path = None) -> list:
    from execnb.shell import CaptureShell
    nb = json.loads(path.read_text())
    cells = nb['cells']
    gpu = [i for i, c in enumerate(cells) if c['cell_type'] == 'code' and 'gpu' in cell_flags(''.join(c['source']))]
    if not gpu: return []
    sel = select_cells(cells)
    print(f"{path.name}: {len(gpu)} gpu cells, running {len(sel)} of {sum(c['cell_type'] == 'code' for c in cells)} code cells {sel}", flush=True)
    sh = CaptureShell(path=path.parent, mpl_format=None)
    sh.user_ns['__colab_check_mode__'] = cuda_as_cpu_mode() if CPU_ONLY else None
    sh.run("import matplotlib; matplotlib.use('Agg')\nif __colab_check_mode__ is not None: __colab_check_mode__.__enter__()")
    res, failed = {}, None
    for i in sel:
        src = ''.join(cells[i]['source'])
        if failed is not None:
            if i in gpu: res[i] = dict(status='not run', seconds=0.0, error=f"an earlier selected cell ({failed}) failed")
            continue
        t0 = time.time()
        error_filters()
        sh.run(src, timeout=timeout)
        dt = time.time() - t0
        err = None
        if sh.exc is not None:
            e = sh.exc
            err = ''.join(traceback.format_exception_only(type(e), e)).strip()
            tb = ''.join(traceback.format_exception(type(e), e, e.__traceback__))
            failed = i
            print(f"  cell {i} FAILED after {dt:.1f}s: {err[:400]}\n{tb[-3000:]}", flush=True)
        else: print(f"  cell {i} ok {dt:.1f}s{' (gpu)' if i in gpu else ''}", flush=True)
        if i in gpu: res[i] = dict(status='failed' if err else 'passed', seconds=round(dt, 2), error=err)
        if partial is not None and i in gpu:          # written after every gpu cell, read by the parent if this process dies
            partial.write_text(json.dumps([dict(notebook=path.name, cell=k, **v) for k, v in res.items()]))
    out = [dict(notebook=path.name, cell=i, **res.get(i, dict(status='not run', seconds=0.0, error='not selected'))) for i in gpu]
    if partial is not None: partial.write_text(json.dumps(out))
    return out

NB_TIMEOUT = int(os.environ.get('COLAB_CHECK_NB_TIMEOUT', 300))   # seconds per notebook (the whole run should stay under 5 min)

def _gpu_cells(path):
    cells = json.loads(Path(path).read_text())['cells']
    return [i for i, c in enumerate(cells) if c['cell_type'] == 'code' and 'gpu' in cell_flags(''.join(c['source']))]

def run_isolated(path: Path) -> list:
    "Run one notebook in its own process (stand-ins patch libraries; a hung cell cannot be stopped in-process)."
    import subprocess, tempfile
    with tempfile.NamedTemporaryFile(suffix='.json', delete=False) as f: part = Path(f.name)
    cmd = [sys.executable, __file__, '--one', str(path), '--out', str(part)]
    t0 = time.time()
    try: rc = subprocess.run(cmd, timeout=NB_TIMEOUT).returncode; why = f"the notebook's process exited with {rc}"
    except subprocess.TimeoutExpired: rc, why = None, f"the notebook exceeded the harness's {NB_TIMEOUT}s budget (COLAB_CHECK_NB_TIMEOUT)"
    done = {e['cell']: e for e in json.loads(part.read_text())} if part.exists() and part.stat().st_size else {}
    part.unlink(missing_ok=True)
    out = []
    for i in _gpu_cells(path):
        if i in done: out.append(done[i]); continue
        out.append(dict(notebook=path.name, cell=i, status='failed' if rc is None else 'not run', seconds=round(time.time() - t0, 1), error=why))
    return out

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('notebooks', nargs='*', help='default: every notebook in nbs/')
    ap.add_argument('--out', default=str(ROOT/'test-artifacts'/'colab-track.json'))
    ap.add_argument('--list', action='store_true', help='print the cells that would run, run nothing')
    ap.add_argument('--one', help=argparse.SUPPRESS)     # internal: run one notebook in this process
    a = ap.parse_args(argv)
    if a.one:
        install_standins()
        run_notebook(Path(a.one), partial=Path(a.out))
        os._exit(0)                                      # skip interpreter teardown (native threads of the libraries)
    paths = [Path(p) for p in a.notebooks] or sorted(p for p in (ROOT/'nbs').glob('*.ipynb') if not p.name.startswith(('_', '.')))
    if a.list:
        for p in paths:
            cells = json.loads(p.read_text())['cells']
            if (s := select_cells(cells)): print(p.name, s)
        return 0
    import torch
    t0 = time.time()
    entries = []
    for p in paths:
        if _gpu_cells(p): entries += run_isolated(p)
    ok = all(e['status'] == 'passed' for e in entries)
    out = dict(device='cuda' if torch.cuda.is_available() else 'cpu (cuda mapped to cpu)', seconds=round(time.time() - t0, 1),
               gpu_cells=len(entries), passed=sum(e['status'] == 'passed' for e in entries), cells=entries)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(out, indent=1) + '\n')
    print(f"colab-check: {out['passed']}/{len(entries)} gpu cells passed in {out['seconds']}s -> {a.out}")
    for e in entries:
        if e['status'] != 'passed': print(f"  {e['notebook']} cell {e['cell']}: {e['status']}: {(e['error'] or '')[:300]}")
    return 0 if ok and entries else 1

if __name__ == '__main__': sys.exit(main())

"""The wheel works without the course: build it, install it into a fresh virtual environment without the dev extras,
and run the README's "Use it in your own project" example there (the exact code block the README shows)."""
import json, re, subprocess, sys, sysconfig, zipfile
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
DEV_ONLY = ('nbdev', 'execnb', 'jupyterlab', 'notebook', 'pytest', 'hypothesis', 'smalldocs')

def readme_example() -> str:
    "The Python block under the README's 'Use it in your own project' heading."
    text = (ROOT/'README.md').read_text()
    m = re.search(r'^## Use it in your own project\n(.*?)(?=^## |\Z)', text, re.S | re.M)
    assert m, "README.md has no '## Use it in your own project' section"
    blocks = re.findall(r'```python\n(.*?)```', m.group(1), re.S)
    assert len(blocks) == 1, f"expected one python block in that section, found {len(blocks)}"
    return blocks[0]

@pytest.fixture(scope='module')
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp('dist')
    # no isolation: the build backend (setuptools) comes from this environment, so the build needs no network
    r = subprocess.run([sys.executable, '-m', 'build', '--wheel', '--no-isolation', '--outdir', str(out), str(ROOT)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    whl, = out.glob('tl_course-*.whl')
    return whl

def test_wheel_contents(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    for mod in ['core', 'zoo', 'data', 'lora', 'qlora', 'memory', 'zero_shot']: assert f'tl_course/{mod}.py' in names
    meta = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith('METADATA'))).decode()
    required = [l.split(':', 1)[1].strip() for l in meta.splitlines() if l.startswith('Requires-Dist:') and 'extra ==' not in l]
    for dev in DEV_ONLY: assert not any(re.match(rf'{dev}\b', r) for r in required), f"{dev} is a runtime dependency: {required}"

def test_readme_example_in_fresh_venv(wheel, tmp_path):
    env_dir = tmp_path/'venv'
    subprocess.run([sys.executable, '-m', 'venv', str(env_dir)], check=True, timeout=300)
    py = env_dir/'bin'/'python'
    r = subprocess.run([str(py), '-m', 'pip', 'install', '-q', '--no-deps', '--no-index', str(wheel)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    site = Path(subprocess.check_output([str(py), '-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'], text=True).strip())
    # The runtime dependencies come from this environment (installing torch & co. again would take minutes), through a
    # folder of links to its site-packages without the dev-only packages and without the course's own editable install:
    # importing the library fails here if it needs any of them.
    deps = tmp_path/'deps'; deps.mkdir()
    hidden = re.compile(r'^(_?(' + '|'.join(DEV_ONLY) + r')([-_.].*)?|__editable__.*|tl_course.*|.*\.pth)$', re.I)
    for e in Path(sysconfig.get_paths()['purelib']).iterdir():
        if not hidden.match(e.name): (deps/e.name).symlink_to(e)
    (site/'_deps_from_course_env.pth').write_text(str(deps) + '\n')
    example = tmp_path/'my_project.py'
    example.write_text("import importlib.util, pathlib\nassert importlib.util.find_spec('nbdev') is None and importlib.util.find_spec('jupyterlab') is None\n"
                       "import tl_course\nassert str(pathlib.Path(tl_course.__file__).resolve()).startswith(" + repr(str(site.resolve())) +
                       "), tl_course.__file__\n" + readme_example())
    r = subprocess.run([str(py), str(example)], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    print(r.stdout)

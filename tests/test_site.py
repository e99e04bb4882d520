"The site builds offline, every notebook has its page under nbdev's name, links resolve, and each page loads in headless Chromium."
import json, os, re, shutil, subprocess, sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlparse, unquote
import pytest

ROOT = Path(__file__).resolve().parents[1]
NBS = sorted(p for p in (ROOT/'nbs').glob('*.ipynb') if not p.name.startswith('_'))
CHROMIUM = next(filter(None, map(shutil.which, ['chromium', 'chromium-browser', 'google-chrome'])), None)
FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run',
         '--disable-component-update', '--disable-sync', '--disable-quic']

def page_name(nb:Path) -> str:
    "nbdev's page name: the notebook name without its number prefix."
    return re.sub(r'^\d+[a-z]?_', '', nb.stem) + '.html'

def nb_title(nb:Path) -> str:
    for c in json.loads(nb.read_text())['cells']:
        if c['cell_type'] == 'markdown' and (m := re.match(r'#\s+(.+)', ''.join(c['source']))): return m[1].strip()

class Refs(HTMLParser):
    def __init__(self): super().__init__(); self.refs, self.title, self._t = [], '', False
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == 'title': self._t = True
        for k in ('href', 'src'):
            if a.get(k) and tag in ('a', 'img', 'link', 'script'): self.refs.append((tag, a[k]))
    def handle_endtag(self, tag):
        if tag == 'title': self._t = False
    def handle_data(self, d):
        if self._t: self.title += d

@pytest.fixture(scope='module')
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp('site')/'_docs'
    r = subprocess.run([sys.executable, str(ROOT/'tools'/'build_docs.py'), '--out', str(out), '--no-readme'], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    return out

def test_every_notebook_has_its_page(site):
    assert len(NBS) >= 4
    for nb in NBS: assert (site/page_name(nb)).exists(), f"{nb.name} has no page {page_name(nb)}"
    assert not list(site.glob('0*.html')), "pages must use nbdev's names (core.html, not 00_core.html)"

def test_internal_links_and_images_resolve(site):
    broken = []
    for page in site.glob('*.html'):
        p = Refs(); p.feed(page.read_text())
        for tag, ref in p.refs:
            u = urlparse(ref)
            if u.scheme or ref.startswith(('#', '//', 'mailto:', 'data:', 'javascript:')): continue
            target = (page.parent/unquote(u.path)).resolve()
            if not target.exists(): broken.append(f"{page.name}: <{tag}> {ref}")
    assert not broken, '\n'.join(broken)

def test_chapter_pages_start_with_a_colab_badge(site):
    for nb in NBS:
        if nb.name == 'index.ipynb': continue
        html = (site/page_name(nb)).read_text()
        assert f'colab.research.google.com/github/tl-course/tl_course/blob/main/nbs/{nb.name}' in html, nb.name

def test_site_shows_saved_outputs(site):
    "The laptop-track outputs saved in the notebooks are on the pages (the ImageNet check on the zoo page)."
    assert 'Egyptian cat' in (site/'zoo.html').read_text()
    assert (site/'data.html').read_text().count('<img') >= 2

def _chromium(*args, timeout=90):
    return subprocess.run([CHROMIUM, *FLAGS, f'--user-data-dir={Path(os.environ.get("TMPDIR", "/tmp"))/"tl_course_chromium"}', *args],
                          capture_output=True, text=True, timeout=timeout)

@pytest.fixture(scope='module')
def chromium():
    if CHROMIUM is None:
        if os.environ.get('CI'): pytest.fail("Chromium is not installed: `make test` installs Debian's chromium")
        pytest.skip("Chromium is not installed (`apt-get install chromium`)")
    return CHROMIUM

def test_pages_load_in_headless_chromium(site, chromium):
    for nb in NBS:
        page = site/page_name(nb)
        dom = _chromium('--dump-dom', page.as_uri()).stdout
        p = Refs(); p.feed(dom)
        assert nb_title(nb) in p.title, f"{page.name}: title {p.title!r} does not name {nb_title(nb)!r}"
        assert '<main' in dom or 'quarto-document-content' in dom or '<article' in dom, f"{page.name} has no content"

def test_screenshot_of_index(site, chromium):
    shot = ROOT/'test-artifacts'/'index.png'
    shot.parent.mkdir(exist_ok=True); shot.unlink(missing_ok=True)
    _chromium('--window-size=1280,1000', '--hide-scrollbars', f'--screenshot={shot}', (site/'index.html').as_uri())
    assert shot.exists() and shot.stat().st_size > 10_000

"The site builds offline, every notebook has its page under nbdev's name, links resolve, math renders without a network, pages fit a phone, and the front page charts the claims ledger."
import base64, fcntl, json, os, re, shutil, subprocess, sys, time
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
    def __init__(self): super().__init__(); self.refs, self.title, self._t, self.ids, self.sheets = [], '', False, set(), []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == 'title': self._t = True
        for k in ('id', 'name'):
            if a.get(k) and (k == 'id' or tag == 'a'): self.ids.add(a[k])
        if tag == 'link' and 'stylesheet' in (a.get('rel') or ''): self.sheets.append(a.get('href') or '')
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

# ---- offline reading, math, phone width, the front page (headless Chromium over the DevTools protocol)

def off_site(ref:str) -> bool: return bool(urlparse(ref).scheme in ('http', 'https') or ref.startswith('//'))

def test_no_page_needs_an_external_asset(site):
    "Images, stylesheets and scripts all come from the site itself (links may point anywhere)."
    bad = []
    for page in site.glob('*.html'):
        p = Refs(); p.feed(page.read_text())
        bad += [f"{page.name}: <{t}> {r}" for t, r in p.refs if t in ('img', 'script') and off_site(r)]
        bad += [f"{page.name}: stylesheet {r}" for r in p.sheets if off_site(r)]
    assert not bad, '\n'.join(bad)

def test_search_index_finds_lora_and_nf4(site):
    idx = json.loads((site/'search.json').read_text())
    for word in ('LoRA', 'NF4'):
        hits = [e['href'] for e in idx if word in e.get('text', '') + e.get('title', '') + e.get('section', '')]
        assert hits, f"search.json has no entry for {word}"
    assert (site/'search-index.js').exists(), "search from file:// needs search-index.js"

def test_every_link_resolves_to_an_anchor(site):
    "Every link to a page of the site (with or without #fragment) lands on an existing page and element."
    ids = {}
    def ids_of(path):
        if path not in ids: p = Refs(); p.feed(path.read_text()); ids[path] = p.ids
        return ids[path]
    broken = []
    for page in site.glob('*.html'):
        p = Refs(); p.feed(page.read_text())
        for tag, ref in p.refs:
            u = urlparse(ref)
            if tag != 'a' or u.scheme or ref.startswith(('//', 'mailto:', 'javascript:')): continue
            target = (page.parent/unquote(u.path)).resolve() if u.path else page
            if not target.exists(): broken.append(f"{page.name}: {ref} (no page)"); continue
            if u.fragment and target.suffix == '.html' and unquote(u.fragment) not in ids_of(target):
                broken.append(f"{page.name}: {ref} (no #{u.fragment} on {target.name})")
    assert not broken, '\n'.join(broken)

class Browser:
    "Headless Chromium driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`): stdlib only."
    def __init__(self, exe, flags=(), user_data_dir=None):
        to_child, self._w = os.pipe(); self._r, from_child = os.pipe()
        def pre():
            a, b = fcntl.fcntl(to_child, fcntl.F_DUPFD, 10), fcntl.fcntl(from_child, fcntl.F_DUPFD, 10)
            os.dup2(a, 3); os.dup2(b, 4)
        args = [exe, *flags, '--remote-debugging-pipe'] + ([f'--user-data-dir={user_data_dir}'] if user_data_dir else []) + ['about:blank']
        self.proc = subprocess.Popen(args, preexec_fn=pre, close_fds=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_child); os.close(from_child)
        self._buf, self._id, self.events = b'', 0, []
        tid = next(t['targetId'] for t in self.send('Target.getTargets')['targetInfos'] if t['type'] == 'page')
        self.session = self.send('Target.attachToTarget', targetId=tid, flatten=True)['sessionId']
        self.send('Page.enable', _s=True); self.send('Runtime.enable', _s=True)
    def _read(self, timeout):
        end = time.time() + timeout
        while b'\0' not in self._buf:
            if time.time() > end: raise TimeoutError('no answer from Chromium')
            chunk = os.read(self._r, 1 << 20)
            if not chunk: raise RuntimeError('Chromium closed the pipe')
            self._buf += chunk
        msg, self._buf = self._buf.split(b'\0', 1)
        return json.loads(msg)
    def send(self, method, _s=False, _timeout=60, **params):
        self._id += 1
        m = dict(id=self._id, method=method, params=params)
        if _s: m['sessionId'] = self.session
        os.write(self._w, json.dumps(m).encode() + b'\0')
        while True:
            r = self._read(_timeout)
            if r.get('id') == self._id:
                if 'error' in r: raise RuntimeError(f"{method}: {r['error']}")
                return r.get('result', {})
            self.events.append(r)
    def wait_event(self, name, timeout=60):
        end = time.time() + timeout
        while True:
            for i, e in enumerate(self.events):
                if e.get('method') == name: return self.events.pop(i)
            self.events.append(self._read(max(0.1, end - time.time())))
    def open(self, url, width=1400, height=900, mobile=False):
        self.send('Emulation.setDeviceMetricsOverride', _s=True, width=width, height=height, deviceScaleFactor=1, mobile=mobile)
        self.events.clear()
        self.send('Page.navigate', _s=True, url=url)
        self.wait_event('Page.loadEventFired')
    def js(self, expr):
        r = self.send('Runtime.evaluate', _s=True, expression=expr, returnByValue=True, awaitPromise=True)
        if 'exceptionDetails' in r: raise RuntimeError(f"{expr[:80]}: {r['exceptionDetails']}")
        return r['result'].get('value')
    def screenshot(self, path, full=False):
        r = self.send('Page.captureScreenshot', _s=True, format='png', captureBeyondViewport=full)
        open(path, 'wb').write(base64.b64decode(r['data']))
    def close(self):
        try: self.send('Browser.close', _timeout=5)
        except Exception: pass
        try: self.proc.wait(10)
        except subprocess.TimeoutExpired: self.proc.kill()
        os.close(self._w); os.close(self._r)

@pytest.fixture(scope='module')
def browser(chromium):
    b = Browser(chromium, FLAGS, Path(os.environ.get("TMPDIR", "/tmp"))/"tl_course_chromium_cdp")
    yield b
    b.close()

MATH = re.compile(r'(?<![\\$])\$[^$\s][^$]*?(?<!\s)\$(?!\d)|\$\$.+?\$\$|\\\(|\\\[', re.S)
def has_math(nb:Path) -> bool:
    "Whether a notebook's markdown (code spans removed) has TeX math."
    md = [re.sub(r'`[^`]*`', '', ''.join(c['source'])) for c in json.loads(nb.read_text())['cells'] if c['cell_type'] == 'markdown']
    return any(MATH.search(s) for s in md)

PAGE_FACTS = """(() => {
  const skip = el => el.closest('pre, code, script, style, textarea, .katex, .sourceCode');
  const raw = [], w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n; (n = w.nextNode());) {
    const t = n.textContent;
    if ((t.includes('\\\\(') || t.includes('\\\\[') || t.includes('$$')) && !skip(n.parentElement)) raw.push(t.trim().slice(0, 80));
  }
  const main = document.querySelector('main') || document.body, r = main.getBoundingClientRect();
  const wide = [...main.querySelectorAll('*')].filter(e => {
    const b = e.getBoundingClientRect();
    if (b.width === 0 || b.right <= r.right + 1) return false;
    for (let p = e.parentElement; p && p !== main; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX; if (o === 'auto' || o === 'scroll' || o === 'hidden') return false; }
    return true;
  }).slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right - r.right) + 'px');
  return {raw, katex: document.querySelectorAll('.katex').length, main_scroll: main.scrollWidth - main.clientWidth,
          page_scroll: document.documentElement.scrollWidth - innerWidth, wide};
})()"""

WIDTHS = {'phone': (375, 812, True), 'desktop': (1400, 900, False)}

def test_pages_render_math_and_fit_phone_and_desktop(site, browser):
    "At phone width (375 px, emulated) and 1400 px: no raw TeX, KaTeX wherever there is math, nothing wider than the main column."
    shots = ROOT/'test-artifacts'/'site'; shots.mkdir(parents=True, exist_ok=True)
    problems = []
    for nb in NBS:
        page = site/page_name(nb)
        for label, (w, h, mobile) in WIDTHS.items():
            browser.open(page.as_uri(), w, h, mobile)
            f = browser.js(PAGE_FACTS)
            browser.screenshot(shots/f"{page.stem}-{label}.png")
            where = f"{page.name} at {w}px"
            if f['raw']: problems.append(f"{where}: unrendered TeX {f['raw'][:3]}")
            if has_math(nb) and not f['katex']: problems.append(f"{where}: has math but no KaTeX-rendered formula")
            if f['main_scroll'] > 1 or f['page_scroll'] > 1 or f['wide']:
                problems.append(f"{where}: overflows by {max(f['main_scroll'], f['page_scroll'])}px {f['wide']}")
    assert not problems, '\n'.join(problems)

def test_search_works_from_file(site, browser):
    "Typing in the search box of a page opened from disk (file://, no server) finds LoRA and NF4."
    browser.open((site/'index.html').as_uri(), 1400, 900)
    for word in ('LoRA', 'NF4'):
        n = browser.js(f"""(async () => {{ const i = document.querySelector('.smalldocs-search input, #quarto-search input');
            i.value = {json.dumps(word)}; i.dispatchEvent(new Event('input'));
            for (let k = 0; k < 50; k++) {{ await new Promise(r => setTimeout(r, 100));
              const n = document.querySelectorAll('.search-result, .aa-Item').length; if (n) return n; }} return 0; }})()""")
        assert n, f"searching {word} from file:// found nothing"

def _ledger():
    return json.loads((ROOT/'nbs'/'claims.json').read_text()) if (ROOT/'nbs'/'claims.json').exists() else []

def test_front_page_charts_and_links_every_claim(site, browser):
    "The front page has the chart above the ledger table; one row per ledger entry in both, each linking to where it was measured."
    rows = _ledger()
    if not rows: pytest.skip('no claims recorded yet')
    browser.open((site/'index.html').as_uri(), 1400, 900)
    f = browser.js("""(() => { const c = document.querySelector('#claims-chart'), t = document.querySelector('#claims-ledger');
      return {chart: !!c, table: !!t, above: !!(c && t && (c.compareDocumentPosition(t) & Node.DOCUMENT_POSITION_FOLLOWING)),
        chart_rows: c ? [...c.querySelectorAll('.cc-claim')].map(r => r.querySelector('.cc-label a') ? r.querySelector('.cc-label a').getAttribute('href') : null) : [],
        table_rows: t ? [...t.querySelectorAll('tbody tr')].map(r => [...r.querySelectorAll('td:nth-child(2) a')].map(a => a.getAttribute('href'))[0] || null) : []}; })()""")
    assert f['chart'] and f['table'] and f['above'], f"chart and table: {f}"
    assert len(f['chart_rows']) == len(rows) == len(f['table_rows']), f"{len(rows)} claims, {len(f['chart_rows'])} chart rows, {len(f['table_rows'])} table rows: re-run nbs/index.ipynb"
    assert all(f['chart_rows']) and all(f['table_rows']), "every claim links to the section that measured it"
    want = sorted(r['anchor'] for r in rows if r.get('anchor'))
    assert want == sorted(h for h in f['table_rows'] if '#' in h), "table links are the ledger's anchors"

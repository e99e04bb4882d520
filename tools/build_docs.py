#!/usr/bin/env python
"""Build the course site into `_docs/` and `README.md` from `nbs/index.ipynb`.

With Quarto on the PATH this is nbdev's own `nbdev-docs` + `nbdev-readme`. Without it (Quarto cannot be
installed offline), nbdev still processes the notebooks (show_doc, directives, front matter) into `_proc/`,
pages are renamed to nbdev's names (`00_core.ipynb` -> `core.html`), and `smalldocs` renders the same
`_quarto.yml`. The README is written from the processed index notebook.

Either way the pages are then made readable without a network (`localise`): KaTeX (vendored under
`tools/assets/katex`, see `package.json`) and the Colab badge are served from `site_libs/`, links to the
published site's own pages become relative, and `search.json` is also written as a script so that search
works from `file://` (where browsers refuse `fetch`).
"""
import argparse, json, os, re, shutil, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT/'tools'/'assets'
KATEX_CDN = re.compile(r'https://cdn\.jsdelivr\.net/npm/katex@[^/"\']+/dist/')
COLAB_BADGE = 'https://colab.research.google.com/assets/colab-badge.svg'
# under file:// browsers refuse fetch(): search.json is loaded through a script tag instead
SEARCH_SHIM = """<script>(function(){if(location.protocol!=='file:')return;var f=window.fetch;
window.fetch=function(u){if(typeof u==='string'&&/(^|\\/)search\\.json$/.test(u)){return new Promise(function(ok,no){
var d=function(){ok(new Response(JSON.stringify(window.__tlSearchIndex||[]),{headers:{'Content-Type':'application/json'}}));};
if(window.__tlSearchIndex)return d();var s=document.createElement('script');s.src=u.replace(/search\\.json$/,'search-index.js');
s.onload=d;s.onerror=no;document.head.appendChild(s);});}return f.apply(this,arguments);};})();</script>"""

def vendor_katex(pkg:Path):
    "Copy KaTeX's CSS, JS, auto-render and woff2 fonts from an npm `katex` package folder into `tools/assets/katex`."
    dist, dst = Path(pkg)/'dist', ASSETS/'katex'
    shutil.rmtree(dst, ignore_errors=True); (dst/'contrib').mkdir(parents=True); (dst/'fonts').mkdir()
    for f in ('katex.min.js', 'contrib/auto-render.min.js'): shutil.copy(dist/f, dst/f)
    for f in (dist/'fonts').glob('*.woff2'): shutil.copy(f, dst/'fonts'/f.name)
    shutil.copy(Path(pkg)/'LICENSE', dst/'LICENSE')
    css = (dist/'katex.min.css').read_text()   # every browser that runs KaTeX reads woff2: drop the woff/ttf fallbacks we do not ship
    (dst/'katex.min.css').write_text(re.sub(r',url\(fonts/[^)]+\.(woff|ttf)\) format\("(woff|truetype)"\)', '', css))

def site_url() -> str:
    "Where the published site lives (`doc_host` + `doc_baseurl`), with a trailing slash."
    from nbdev.config import get_config
    c = get_config()
    return (c.get('doc_host', '').rstrip('/') + '/' + c.get('doc_baseurl', '').strip('/') + '/').replace(':///', '://')

def localise(site:Path, published:str=None) -> Path:
    "Make every page of `site` readable offline: local KaTeX and Colab badge, relative links to its own pages, file:// search."
    libs = site/'site_libs'
    shutil.copytree(ASSETS/'katex', libs/'katex', dirs_exist_ok=True)
    shutil.copy(ASSETS/'colab-badge.svg', libs/'colab-badge.svg')
    if (site/'search.json').exists():
        (site/'search-index.js').write_text('window.__tlSearchIndex = ' + (site/'search.json').read_text() + ';\n')
    ids = {}
    def ids_of(p):
        if p not in ids: ids[p] = set(re.findall(r'\sid="([^"]+)"', p.read_text()))
        return ids[p]
    own = re.compile(rf'href="{re.escape(published)}([\w./-]*\.html)?(#[^"]*)?"') if published else None
    for page in site.rglob('*.html'):
        if libs in page.parents: continue
        up = '../' * (len(page.relative_to(site).parts) - 1)
        html = page.read_text()
        new = KATEX_CDN.sub(f'{up}site_libs/katex/', html).replace(COLAB_BADGE, f'{up}site_libs/colab-badge.svg')
        if own:
            def rel(m):
                path, frag = m[1] or 'index.html', m[2] or ''
                if not (site/path).exists(): return m[0]
                have = ids_of(site/path)
                if frag and frag[1:] not in have:   # a method nbdev links to but the page does not document: its class, else the page
                    frag = '#' + frag[1:].split('.')[0] if frag[1:].split(".")[0] in have else ''
                return f'href="{up}{path}{frag}"'
            new = own.sub(rel, new)
        if 'search.json' not in html and (site/'search.json').exists() and '</head>' in new and 'fuse' in new:
            new = new.replace('</head>', SEARCH_SHIM + '</head>', 1)
        if new != html: page.write_text(new)
    return site

def front_matter(nb) -> dict:
    "Key/values of the YAML front matter that nbdev puts in the first raw cell."
    c = nb['cells'][0] if nb['cells'] else {}
    if c.get('cell_type') != 'raw': return {}
    import yaml
    src = ''.join(c['source']).strip().strip('-')
    return yaml.safe_load(src) or {}

def rename_pages(proc:Path) -> dict:
    "Rename processed notebooks to their `output-file` (nbdev's page names) and fix `sidebar.yml`."
    renames = {}
    for f in sorted(proc.glob('*.ipynb')):
        out = front_matter(json.loads(f.read_text())).get('output-file')
        if out and Path(out).stem != f.stem:
            f.rename(proc/(Path(out).stem + '.ipynb'))
            renames[f.name] = Path(out).stem + '.ipynb'
    sb = proc/'sidebar.yml'
    if sb.exists():
        txt = sb.read_text()
        for a, b in renames.items(): txt = re.sub(rf'(?<![\w/]){re.escape(a)}', b, txt)
        sb.write_text(txt)
    return renames

def _out_text(o) -> str:
    if o.get('output_type') == 'stream': return ''.join(o['text'])
    d = o.get('data', {})
    for k in ('text/markdown', 'text/plain'):
        if d.get(k): return ''.join(d[k])
    return ''

def readme_from(nb_path:Path) -> str:
    "GitHub Markdown for a processed notebook: title, description, markdown cells, code and text outputs."
    nb = json.loads(nb_path.read_text())
    fm, lines = front_matter(nb), ['<!-- WARNING: THIS FILE WAS AUTOGENERATED FROM nbs/index.ipynb! DO NOT EDIT! -->', '']
    if fm.get('title'): lines += [f"# {fm['title']}", '']
    if fm.get('description'): lines += [f"> {fm['description']}", '']
    for c in nb['cells']:
        src = ''.join(c['source']).strip()
        if c['cell_type'] == 'markdown' and src and not src.startswith('<!-- WARNING'): lines += [src, '']
        elif c['cell_type'] == 'code':
            opts = dict(re.findall(r'^#\|\s*([\w-]+):\s*(\S+)', src, flags=re.M))
            src = re.sub(r'^#\|.*\n?', '', src, flags=re.M).strip()
            if src and opts.get('echo') != 'false': lines += ['```python', src, '```', '']
            if opts.get('output') == 'false': continue
            for o in c.get('outputs', []):
                t = _out_text(o).strip()
                if not t: continue
                md = bool(o.get('data', {}).get('text/markdown'))
                lines += ([t, ''] if md else ['```', t, '```', ''])
    return '\n'.join(lines).rstrip() + '\n'

def _only_doc_cells_run():
    """nbdev's docs step re-executes every cell that contains an import anywhere (even inside a function or next to an
    experiment), so a chapter's experiment cells would run again, slowly, out of order and without the variables they need.
    Here it runs what the pages need fresh — exported cells, `show_doc` cells and cells made only of imports — and every
    other cell keeps the outputs its notebook saved (the site shows the laptop track's saved outputs by design)."""
    import ast
    import nbdev.processors as P
    if getattr(P._do_eval, '_course', False): return
    orig = P._do_eval
    def _do_eval(cell):
        if not orig(cell): return None
        if cell.directives_.keys() & {'export', 'exports', 'exporti', 'exec_doc'}: return True
        trees = cell.parsed_()
        return True if P._show_docs(trees) or all(isinstance(t, (ast.Import, ast.ImportFrom)) for t in trees) else None
    _do_eval._course = True
    P._do_eval = _do_eval

def build(out:Path, readme:bool=True):
    os.chdir(ROOT)
    if shutil.which('quarto'):
        subprocess.run(['nbdev-docs'], check=True)
        if readme: subprocess.run(['nbdev-readme'], check=True)
        if out.resolve() != (ROOT/'_docs').resolve():
            shutil.rmtree(out, ignore_errors=True); shutil.copytree(ROOT/'_docs', out)
        return localise(out, site_url())
    from nbdev.quarto import refresh_quarto_yml
    from nbdev.serve import proc_nbs
    from nbdev.config import get_config
    import nbdev.doclinks
    _only_doc_cells_run()
    refresh_quarto_yml()
    nbdev.doclinks._build_modidx()
    proc = Path(proc_nbs(get_config().nbs_path, n_workers=0))
    rename_pages(proc)
    r = subprocess.run([str(Path(sys.executable).parent/'smalldocs'), 'render', str(proc)], capture_output=True, text=True)
    if r.returncode: sys.exit(f"smalldocs render failed:\n{r.stdout}\n{r.stderr}")
    built = proc/get_config().doc_path.name
    shutil.rmtree(out, ignore_errors=True)
    shutil.move(str(built), str(out))
    if readme: (ROOT/'README.md').write_text(readme_from(proc/'index.ipynb'))
    return localise(out, site_url())

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--out', default=str(ROOT/'_docs'), help='where to write the site (default: _docs/)')
    ap.add_argument('--no-readme', action='store_true', help='do not rewrite README.md')
    ap.add_argument('--vendor-katex', metavar='DIR', help="only refresh tools/assets/katex from an npm katex folder (`make katex`)")
    a = ap.parse_args()
    if a.vendor_katex: vendor_katex(Path(a.vendor_katex)); sys.exit(print(f"KaTeX copied into {ASSETS/'katex'}"))
    site = build(Path(a.out).resolve(), readme=not a.no_readme)
    print(f"Site built: open {site/'index.html'}")

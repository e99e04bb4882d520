"The claims ledger: parallel writers keep every row; every row follows the rule and matches what its notebook printed."
import ast
import json, re, subprocess, sys
from pathlib import Path
import pytest
from tl_course.core import verdict_of, combine_verdicts, VERDICTS

NBS = Path(__file__).resolve().parents[1]/'nbs'
FIELDS = ('chapter', 'claim', 'source', 'scope', 'anchor', 'verdict')
MEASURED = ('effect_label', 'effect', 'lo', 'hi', 'threshold', 'side', 'n', 'unit', 'verdict')

def test_parallel_writers_keep_every_row(tmp_path):
    p = tmp_path/'claims.json'
    code = ("import sys, contextlib, io; from tl_course.core import record_claim, measure\n"
            "r = measure([1., 2., 3.], [0., 0.5, 1.])\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    for k in range(20): record_claim(f'ch{sys.argv[1]}', f'claim {k}', 'Someone 2020', 'toy', 'core.html#x', result=r, path=sys.argv[2])")
    procs = [subprocess.Popen([sys.executable, '-c', code, str(i), str(p)]) for i in range(4)]
    assert all(pr.wait(timeout=120) == 0 for pr in procs)
    rows = json.loads(p.read_text())
    assert len(rows) == 4 * 20 and len({(r['chapter'], r['claim']) for r in rows}) == 80

ROWS = json.loads((NBS/'claims.json').read_text())

def _parse_row(text):
    "A printed ledger row: a Python literal (core prints `repr(row)`), or JSON in outputs saved before that."
    try: return ast.literal_eval(text)
    except (ValueError, SyntaxError): return json.loads(text)

def _printed_rows():
    "Every row a chapter printed when it recorded one of its own claims (its saved outputs; core's demo rows are not the ledger's)."
    out = {}
    for nb in sorted(NBS.glob('[0-9]*.ipynb')):
        cells = json.loads(nb.read_text())['cells']
        m = re.search(r'^#\|\s*default_exp\s+(\S+)', '\n'.join(''.join(c['source']) for c in cells), re.M)
        for c in cells:
            for o in c.get('outputs', []):
                for line in ''.join(o.get('text', '')).splitlines():
                    if line.startswith('ledger <- '):
                        r = _parse_row(line[len('ledger <- '):])
                        if m and r['chapter'] == m.group(1): out[(r['chapter'], r['claim'])] = (nb.name, r)
    return out

def _check_measured(r, where):
    for k in MEASURED: assert k in r, f"{where}: missing {k}"
    assert r['n'] >= 3, f"{where}: n={r['n']} < 3"
    assert r['lo'] <= r['effect'] <= r['hi'], f"{where}: effect outside its interval"
    assert r['verdict'] == verdict_of(r['lo'], r['hi'], r['threshold'], r['side']), f"{where}: verdict does not follow from the interval"

@pytest.mark.parametrize('row', ROWS, ids=[f"{r['chapter']}: {r['claim'][:40]}" for r in ROWS])
def test_row_follows_the_rule(row):
    for k in FIELDS: assert row.get(k), f"missing {k}"
    assert row['verdict'] in VERDICTS
    assert not re.search(r'\bseeds? 00\d\b|\.txt\b', row['source']), f"source names an internal file: {row['source']!r}"
    if row['verdict'] == 'not tested here' and 'parts' not in row:
        assert row.get('why') and row.get('colab_cell')
    elif 'parts' in row:
        for p in row['parts']: _check_measured(p, p['name'])
        assert row['verdict'] == combine_verdicts([p['verdict'] for p in row['parts']])
    else: _check_measured(row, 'row')

def test_rows_match_what_the_notebooks_printed():
    printed = _printed_rows()
    for r in ROWS:
        key = (r['chapter'], r['claim'])
        assert key in printed, f"no notebook output recorded {key}: re-run its chapter with `nbdev-test --save`"
        assert printed[key][1] == r, f"{printed[key][0]} printed a different row for {key[1]!r} than claims.json holds"
    stale = set(printed) - {(r['chapter'], r['claim']) for r in ROWS}
    assert not stale, f"notebooks printed rows that claims.json lacks: {stale}"

def test_no_verdict_literal_in_notebooks():
    pat = re.compile(r"""verdict\s*[=:]\s*\\?["'](agrees|disagrees|partly|inconclusive)""")
    for nb in sorted(NBS.glob('*.ipynb')):
        src = '\n'.join(''.join(c['source']) for c in json.loads(nb.read_text())['cells'] if c['cell_type'] == 'code')
        assert not pat.search(src), f"{nb.name} types a verdict: verdicts come from `measure`/`record_claim`"

RERUN = NBS.parent/'test-artifacts'/'claims.json'

@pytest.mark.skipif(not RERUN.exists(), reason="no re-run ledger: `make test` writes test-artifacts/claims.json while it re-runs the chapters")
def test_rerun_flips_no_verdict():
    """EVIDENCE.md: re-running the course must not flip a verdict (numbers may move a little; verdicts may not). No exemptions:
    a measurement that moves with the machine's load (wall-clock timing) cannot carry a verdict."""
    rerun = {(r['chapter'], r['claim']): r for r in json.loads(RERUN.read_text())}
    flips = [f"{k[0]}: {k[1]!r}: {r['verdict']} -> {rerun[k]['verdict']}" for r in ROWS
             if (k := (r['chapter'], r['claim'])) in rerun and rerun[k]['verdict'] != r['verdict']]
    missing = [k for k in ((r['chapter'], r['claim']) for r in ROWS) if k not in rerun]
    assert not missing, f"the re-run recorded no row for {missing}"
    assert not flips, "verdicts flipped on a re-run (such a verdict is not a finding):\n" + '\n'.join(flips)

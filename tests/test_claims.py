"The claims ledger survives chapters writing to it at the same time."
import json, subprocess, sys

def test_parallel_writers_keep_every_row(tmp_path):
    p = tmp_path/'claims.json'
    code = ("import sys; from tl_course.core import record_claim\n"
            "for k in range(20): record_claim(f'ch{sys.argv[1]}', f'claim {k}', 'seed', f'measured {k}', 'agrees', path=sys.argv[2])")
    procs = [subprocess.Popen([sys.executable, '-c', code, str(i), str(p)]) for i in range(4)]
    assert all(pr.wait(timeout=120) == 0 for pr in procs)
    rows = json.loads(p.read_text())
    assert len(rows) == 4 * 20 and len({(r['chapter'], r['claim']) for r in rows}) == 80

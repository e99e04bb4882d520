"Property tests of discriminative learning rates and schedules."
import math
import numpy as np
from hypothesis import given, settings, strategies as st
from tl_course.discriminative_lr import discriminative_lrs, warmup_cosine, slanted_triangular

@settings(max_examples=60, deadline=None)
@given(n=st.integers(2, 12), lo=st.floats(1e-7, 1e-3), mult=st.floats(1.0, 1e4))
def test_slice_is_geometric_from_lo_to_hi(n, lo, mult):
    hi = lo * mult
    lrs = discriminative_lrs(n, slice(lo, hi))
    assert math.isclose(lrs[0], lo, rel_tol=1e-9) and math.isclose(lrs[-1], hi, rel_tol=1e-9)
    ratios = np.array(lrs[1:]) / np.array(lrs[:-1])
    assert np.allclose(ratios, ratios[0], rtol=1e-6)

@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 12), lr=st.floats(1e-6, 1.0), decay=st.floats(0.01, 1.0))
def test_decay_rule_head_gets_lr(n, lr, decay):
    lrs = discriminative_lrs(n, lr, decay)
    assert math.isclose(lrs[-1], lr) and all(a <= b * (1 + 1e-12) for a, b in zip(lrs, lrs[1:]))

@settings(max_examples=40, deadline=None)
@given(total=st.integers(10, 2000))
def test_schedules_stay_in_range(total):
    w = [warmup_cosine(s, total) for s in range(total)]
    t = [slanted_triangular(s, total) for s in range(total + 1)]
    assert 0 <= min(w) and max(w) <= 1 + 1e-9
    assert min(t) >= 1 / 32 - 1e-9 and max(t) <= 1 + 1e-9 and math.isclose(max(t), 1.0)

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

def test_warmup_cosine_equals_transformers():
    import torch
    from torch import nn
    from transformers import get_cosine_schedule_with_warmup
    from tl_course.discriminative_lr import scheduler
    for total in [1, 2, 10, 97, 500]:
        o1, o2 = [torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.3) for _ in range(2)]
        s1 = scheduler(o1, total)
        s2 = get_cosine_schedule_with_warmup(o2, num_warmup_steps=max(1, int(0.1 * total)), num_training_steps=total)
        for _ in range(total):
            assert math.isclose(o1.param_groups[0]['lr'], o2.param_groups[0]['lr'], abs_tol=1e-12)
            o1.step(); o2.step(); s1.step(); s2.step()

def test_encode_top_measures_in_eval_mode_and_restores_the_mode():
    import torch
    from torch import nn
    from tl_course.discriminative_lr import encode_top, similarity_retention
    class Toy(nn.Module):
        def __init__(self): super().__init__(); self.lin, self.drop = nn.Linear(6, 6), nn.Dropout(0.5)
        def encode(self, h, mask): return self.drop(self.lin(h)).mean(1)
    torch.manual_seed(0); m = Toy().train()
    H, M = torch.randn(20, 4, 6), torch.ones(20, 4)
    e1, e2 = encode_top(m, H, M), encode_top(m, H, M)
    assert torch.equal(e1, e2) and m.training and m.drop.training      # no dropout noise; train mode given back
    assert math.isclose(similarity_retention(e1, e2), 1.0, abs_tol=1e-6)

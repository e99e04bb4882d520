"Property tests of the from-scratch LoRA layer against peft and against its own invariants."
import copy
import torch
from torch import nn
from hypothesis import given, settings, strategies as st
from peft import LoraConfig, get_peft_model
import pytest
from peft import PeftModel
from tl_course.lora import LoRALinear, add_lora, lora_state_dict, load_lora_state_dict, merge_and_unload, copy_lora_to_peft, lora_param_count, save_peft_adapter
from tl_course.core import count_params

dims = st.integers(1, 24)

@settings(max_examples=40, deadline=None)
@given(d_in=dims, d_out=dims, r=st.integers(1, 8), alpha=st.floats(0.5, 64), seed=st.integers(0, 10**6))
def test_merge_unmerge_round_trip_and_equivalence(d_in, d_out, r, alpha, seed):
    torch.manual_seed(seed)
    base = nn.Linear(d_in, d_out); w0 = base.weight.detach().clone()
    lin = LoRALinear(base, r=r, alpha=alpha)
    x = torch.randn(5, d_in)
    with torch.no_grad():
        assert torch.equal(lin(x), base(x))                     # B = 0 at the start
        lin.lora_B.normal_()
        y = lin(x)
        lin.merge(); assert torch.allclose(lin(x), y, atol=1e-4, rtol=1e-4)
        lin.unmerge(); assert torch.allclose(base.weight, w0, atol=1e-5)
    assert count_params(lin)['trainable'] == lora_param_count(d_in, d_out, r)

class TwoLayer(nn.Module):
    def __init__(s, d): super().__init__(); s.q = nn.Linear(d, d); s.v = nn.Linear(d, d); s.o = nn.Linear(d, 3)
    def forward(s, x): return s.o(torch.relu(s.q(x)) + s.v(x))

@settings(max_examples=25, deadline=None)
@given(d=st.integers(2, 32), r=st.integers(1, 8), alpha=st.sampled_from([1, 8, 16, 32]), seed=st.integers(0, 10**6))
def test_same_outputs_as_peft(d, r, alpha, seed):
    torch.manual_seed(seed)
    base = TwoLayer(d)
    ours = add_lora(copy.deepcopy(base), ('q', 'v'), r=r, alpha=alpha)
    with torch.no_grad():
        for m in ours.modules():
            if isinstance(m, LoRALinear): m.lora_B.normal_()
    theirs = get_peft_model(copy.deepcopy(base), LoraConfig(r=r, lora_alpha=alpha, target_modules=['q', 'v']))
    copy_lora_to_peft(ours, theirs)
    x = torch.randn(4, d)
    with torch.no_grad():
        assert torch.allclose(ours(x), theirs(x), atol=1e-5)
        merged_ours, merged_theirs = merge_and_unload(ours), theirs.merge_and_unload()
        assert torch.equal(merged_ours.q.weight, merged_theirs.q.weight) and torch.equal(merged_ours.v.weight, merged_theirs.v.weight)

def test_adapter_state_dict_round_trip():
    torch.manual_seed(0)
    a = add_lora(TwoLayer(8), ('q', 'v'), r=2)
    with torch.no_grad():
        for m in a.modules():
            if isinstance(m, LoRALinear): m.lora_B.normal_()
    b = add_lora(copy.deepcopy(TwoLayer(8)), ('q', 'v'), r=2)
    b.load_state_dict({k: v for k, v in a.state_dict().items() if 'lora_' not in k}, strict=False)
    sd = lora_state_dict(a)
    assert set(sd) == {'q.lora_A', 'q.lora_B', 'v.lora_A', 'v.lora_B'}
    load_lora_state_dict(b, sd)
    x = torch.randn(3, 8)
    with torch.no_grad(): assert torch.equal(a(x), b(x))

@settings(max_examples=20, deadline=None)
@given(d=st.integers(2, 24), r=st.integers(1, 8), alpha=st.sampled_from([1, 8, 16]), seed=st.integers(0, 10**6))
def test_rslora_same_outputs_as_peft(d, r, alpha, seed):
    torch.manual_seed(seed)
    base = TwoLayer(d)
    ours = add_lora(copy.deepcopy(base), ('q', 'v'), r=r, alpha=alpha, use_rslora=True)
    for m in ours.modules():
        if isinstance(m, LoRALinear):
            assert abs(m.scaling - alpha / r ** 0.5) < 1e-12
            with torch.no_grad(): m.lora_B.normal_()
    theirs = get_peft_model(copy.deepcopy(base), LoraConfig(r=r, lora_alpha=alpha, target_modules=['q', 'v'], use_rslora=True))
    copy_lora_to_peft(ours, theirs)                       # also checks that both use the same scale
    x = torch.randn(4, d)
    with torch.no_grad(): assert torch.allclose(ours(x), theirs(x), atol=1e-5)

def test_failed_add_lora_leaves_the_model_unchanged():
    m = TwoLayer(4)
    for bad in [dict(target_modules='nope'), dict(target_modules=('q',), r=0), dict(target_modules=('q',), alpha=-1),
                dict(target_modules=('q',), use_rslora='yes'), dict(target_modules=('q',), layers=[0])]:
        with pytest.raises((ValueError, TypeError)): add_lora(m, **bad)
        assert all(p.requires_grad for p in m.parameters()) and not any(isinstance(x, LoRALinear) for x in m.modules())

@settings(max_examples=8, deadline=None)
@given(r=st.integers(1, 6), alpha=st.sampled_from([1, 8, 16]), rslora=st.booleans(), seed=st.integers(0, 10**6))
def test_peft_format_round_trip_is_bit_identical(tmp_path_factory, r, alpha, rslora, seed):
    torch.manual_seed(seed)
    base = TwoLayer(8)
    ours = add_lora(copy.deepcopy(base), ('q', 'v'), r=r, alpha=alpha, use_rslora=rslora)
    with torch.no_grad():
        for m in ours.modules():
            if isinstance(m, LoRALinear): m.lora_B.normal_()
    d = save_peft_adapter(ours, tmp_path_factory.mktemp('adapter'))
    theirs = PeftModel.from_pretrained(copy.deepcopy(base), str(d))
    x = torch.randn(5, 8)
    with torch.no_grad(): assert torch.equal(ours(x), theirs(x))

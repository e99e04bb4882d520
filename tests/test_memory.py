"The memory planner: invariants that must hold whatever the model."
import torch
import pytest
from tl_course.memory import plan, MemoryTrace, saved_tensor_bytes, _q4_bytes

def test_trace_counts_and_frees():
    x = torch.randn(256, 256, device='meta', requires_grad=True)
    with MemoryTrace([x]) as mt:
        y = x.exp().exp()
        del y
    assert mt.peak == 2 * 256 * 256 * 4 and mt.live == 0

def test_activations_scale_with_batch():
    a = plan('minilm', 'lora', batch=4, seq_len=64).activations_saved
    b = plan('minilm', 'lora', batch=8, seq_len=64).activations_saved
    assert 1.9 < b / a < 2.1

def test_method_ordering():
    full, lora, qlora = (plan('smollm2', m, batch=1, seq_len=64).total() for m in ('full', 'lora', 'qlora'))
    assert full > lora > qlora

def test_checkpointing_saves_activations():
    a = plan('smollm2', 'lora', batch=2, seq_len=512).total()
    b = plan('smollm2', 'lora', batch=2, seq_len=512, gradient_checkpointing=True).total()
    assert b < a

def test_q4_bytes():
    codes, const = _q4_bytes(64 * 256, double_quant=True)
    assert codes == 64 * 256 // 2 and const == 256 + 4 + 4

def test_bad_input():
    with pytest.raises(ValueError, match='`optimizer` must be one of'): plan('minilm', 'full', optimizer='adam9')
    with pytest.raises(TypeError, match='`model_or_config` must be'): plan(3.5)

def test_patches_restored_even_on_error():
    import torch.nn.functional as F
    orig = F.scaled_dot_product_attention
    plan('smollm2', 'lora', batch=1, seq_len=32)
    assert F.scaled_dot_product_attention is orig
    with pytest.raises(Exception): plan('smollm2', 'lora', batch=1, seq_len=32, lora_targets=['no_such_module'])
    assert F.scaled_dot_product_attention is orig

def _cli(*args):
    import subprocess, sys
    return subprocess.run([sys.executable, '-c', 'import sys; from tl_course.memory import main; sys.exit(main())', *args],
                          capture_output=True, text=True, timeout=600)

def test_cli_plan_and_help():
    r = _cli('--help')
    assert r.returncode == 0 and 'plan' in r.stdout
    r = _cli('plan', 'smollm2', 'qlora', '--batch', '2', '--seq-len', '256', '--gpu', 'T4')
    assert r.returncode == 0, r.stderr[-2000:]
    assert 'total' in r.stdout and 'T4 (' in r.stdout and any(v in r.stdout for v in ('fits', 'tight', 'does not fit'))
    r = _cli('plan', 'smollm2', 'qlora', '--gpu', 'H900')
    assert r.returncode != 0 and '`--gpu` must name one of' in r.stderr

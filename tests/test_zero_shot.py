"Zero-shot head against open_clip on random tiny models and class lists; WiSE-FT interpolation invariants."
import torch
import open_clip
from hypothesis import given, settings, strategies as st
from open_clip import build_zero_shot_classifier
from tl_course.zoo import tiny
from tl_course.zero_shot import (zero_shot_head, zero_shot_logits, topk_accuracy, interpolate_weights, conse_embed, openai_imagenet_templates,
                                 greedy_templates, centre)

TOK = open_clip.get_tokenizer('ViT-B-32')
WORDS = ['cat', 'dog', 'brick', 'grass', 'gravel', 'face', 'tree', 'car', 'seven', 'one']

@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 100), names=st.lists(st.sampled_from(WORDS), min_size=1, max_size=5, unique=True),
       n_tpl=st.integers(1, 6))
def test_head_equals_open_clip(seed, names, n_tpl):
    m = tiny('clip', seed=seed)
    tpl = openai_imagenet_templates()[:n_tpl]
    ours = zero_shot_head(m, TOK, names, tpl)
    ref = build_zero_shot_classifier(m, TOK, names, tpl, num_classes_per_batch=None, device='cpu')
    assert torch.allclose(ours, ref, atol=1e-6)

def test_topk():
    logits = torch.tensor([[0., 1, 2], [2, 1, 0]])
    assert topk_accuracy(logits, [2, 1], 1) == 0.5 and topk_accuracy(logits, [2, 1], 2) == 1.0

@given(alpha=st.floats(0, 1))
def test_interpolation_endpoints_and_linearity(alpha):
    a, b = {'w': torch.zeros(3)}, {'w': torch.ones(3)}
    assert torch.allclose(interpolate_weights(a, b, alpha)['w'], torch.full((3,), alpha))

def test_conse_top1_is_source_embedding():
    src = torch.nn.functional.normalize(torch.randn(5, 4), dim=-1)
    probs = torch.tensor([[0.1, 0.6, 0.1, 0.1, 0.1]])
    assert torch.allclose(conse_embed(probs, src, 1)[0], src[1])

@settings(max_examples=30, deadline=None)
@given(scores=st.lists(st.floats(0, 1), min_size=1, max_size=6), max_n=st.integers(1, 6))
def test_greedy_templates_only_adds_what_helps(scores, max_n):
    pool = [f'{{}} {i}' for i in range(len(scores))]
    score = lambda ts: sum(scores[pool.index(t)] for t in ts) / len(ts)      # mean quality: adding a worse template lowers it
    got = greedy_templates(score, pool, max_n)
    assert 1 <= len(got) <= max_n and len(set(got)) == len(got) and set(got) <= set(pool)
    assert got[0] == pool[max(range(len(scores)), key=lambda i: scores[i])]
    assert all(score(got[:i + 1]) > score(got[:i]) for i in range(1, len(got)))

@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 100))
def test_centre_removes_the_common_direction(seed):
    g = torch.Generator().manual_seed(seed)
    common = torch.nn.functional.normalize(torch.randn(8, generator=g), dim=0)
    emb = torch.nn.functional.normalize(5 * common + 0.1 * torch.randn(50, 8, generator=g), dim=-1)   # every embedding near one hub
    c = centre(emb, emb)
    assert torch.allclose(c.norm(dim=1), torch.ones(50), atol=1e-5)
    assert (c @ common).abs().mean() < (emb @ common).abs().mean()

def test_logit_scale_scales():
    f, h = torch.randn(4, 6), torch.nn.functional.normalize(torch.randn(6, 3), dim=0)
    assert torch.allclose(zero_shot_logits(f, h, logit_scale=3.), 3 * zero_shot_logits(f, h, logit_scale=1.), atol=1e-5)

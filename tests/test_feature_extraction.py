"Property tests of freezing by blocks and of the feature-cache key."
import numpy as np
import torch
from hypothesis import given, settings, strategies as st
from tl_course.zoo import tiny
from tl_course.feature_extraction import named_blocks, freeze_to, fingerprint, trainable_summary

@settings(max_examples=20, deadline=None)
@given(arch=st.sampled_from(['resnet', 'efficientnet', 'bert']), data=st.data())
def test_freeze_to_freezes_exactly_the_first_n_blocks(arch, data):
    m = tiny(arch)
    blocks = named_blocks(m)
    n = data.draw(st.integers(-len(blocks), len(blocks)))
    freeze_to(m, n)
    k = n % len(blocks) if n < 0 else n
    for i, (_, b) in enumerate(blocks):
        assert all(p.requires_grad == (i >= k) for p in b.parameters())
    m.train()
    from tl_course.core import frozen_bn_eval
    frozen_bn_eval(m)
    s = trainable_summary(m)
    for i, (name, _) in enumerate(blocks):
        if i < k and s.loc[name, 'batchnorm'] != '-': assert s.loc[name, 'batchnorm'] == 'eval'

@settings(max_examples=50, deadline=None)
@given(a=st.lists(st.integers(0, 255), min_size=1, max_size=20), b=st.lists(st.integers(0, 255), min_size=1, max_size=20))
def test_fingerprint_separates_different_arrays(a, b):
    A, B = np.array(a, np.uint8), np.array(b, np.uint8)
    assert (fingerprint(A) == fingerprint(B)) == (a == b)

def test_fingerprint_of_module_tracks_weights():
    m = tiny('resnet'); k = fingerprint(m)
    with torch.no_grad(): next(m.parameters())[0, 0, 0, 0] += 1
    assert fingerprint(m) != k

def test_block_maps_equal_timm_forward_intermediates():
    "Every block's map equals what timm's own `forward_intermediates` returns, bit for bit (stem, each stage, conv_head + bn2)."
    from tl_course.zoo import efficientnet_lite0
    from tl_course.feature_extraction import block_maps
    torch.manual_seed(0)
    m = efficientnet_lite0(pretrained=False).eval(); x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        ours = block_maps(m, x); final, inter = m.forward_intermediates(x, extra_blocks=True)
    assert list(ours) == ['stem'] + [f'stage{i}' for i in range(len(m.blocks))] + ['head']
    assert len(inter) == len(ours) - 1
    for a, b in zip(list(ours.values())[:-1], inter): assert torch.equal(a, b)
    assert torch.equal(ours['head'], final)

def test_freeze_efficientnet_trains_only_the_classifier():
    "Feature extraction means what it says: conv_head and its BatchNorm are frozen with the backbone."
    from tl_course.zoo import efficientnet_lite0
    from tl_course.feature_extraction import freeze
    m = freeze(efficientnet_lite0(pretrained=False))
    trainable = {n for n, p in m.named_parameters() if p.requires_grad}
    assert trainable == {'classifier.weight', 'classifier.bias'}

def test_image_features_grid_cells_average_to_the_global_pool():
    from tl_course.zoo import efficientnet_lite0
    from tl_course.feature_extraction import image_features
    m = efficientnet_lite0(pretrained=False)
    X = np.random.default_rng(0).integers(0, 255, (3, 28, 28), dtype=np.uint8)
    g, p = image_features(m, X, 64, grid=2, progress=False, cache=False), image_features(m, X, 64, progress=False, cache=False)
    for k in p: assert torch.allclose(g[k].view(3, p[k].shape[1], 4).mean(-1), p[k], atol=1e-5), k

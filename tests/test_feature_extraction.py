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

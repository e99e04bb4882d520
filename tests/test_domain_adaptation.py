"Domain adaptation pieces against skada and against their definitions, on random inputs."
import math
import torch
import pytest
from hypothesis import given, settings, strategies as st
from skada.deep.losses import deepcoral_loss, dan_loss
from skada.deep.modules import GradientReversalLayer
from tl_course.domain_adaptation import grad_reverse, dann_lambda, coral_loss, mmd_loss, adabn, pseudo_labels, DigitNet, train_da, coral_transform

@settings(max_examples=30, deadline=None)
@given(n_s=st.integers(3, 60), n_t=st.integers(3, 60), d=st.integers(1, 40), scale=st.floats(0.1, 5.), seed=st.integers(0, 10**6))
def test_losses_equal_skada(n_s, n_t, d, scale, seed):
    g = torch.Generator().manual_seed(seed)
    s, t = torch.randn(n_s, d, generator=g), torch.randn(n_t, d, generator=g) * scale + 0.5
    assert torch.allclose(coral_loss(s, t), deepcoral_loss(s, t), rtol=1e-4, atol=1e-7)
    assert torch.allclose(mmd_loss(s, t), dan_loss(s, t), rtol=1e-4, atol=1e-6)

@given(lambd=st.floats(0., 10.), seed=st.integers(0, 10**6))
def test_grl_sign_scale_and_skada(lambd, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(4, 5, generator=g, requires_grad=True); w = torch.randn(4, 5, generator=g)
    (g1,) = torch.autograd.grad((grad_reverse(x, lambd) * w).sum(), x)
    (g2,) = torch.autograd.grad((GradientReversalLayer.apply(x, lambd) * w).sum(), x)
    assert torch.allclose(g1, -lambd * w) and torch.equal(g1, g2)

def test_dann_schedule_monotone():
    vals = [dann_lambda(p / 20) for p in range(21)]
    assert vals[0] == 0 and all(b > a for a, b in zip(vals, vals[1:])) and vals[-1] < 1

def test_adabn_changes_only_statistics():
    torch.manual_seed(0)
    net = DigitNet()
    w = {k: v.clone() for k, v in net.state_dict().items() if 'running' not in k and 'num_batches' not in k}
    adabn(net, torch.rand(64, 3, 28, 28) + 1)
    assert all(torch.equal(v, net.state_dict()[k]) for k, v in w.items())
    assert not torch.allclose(net.features[1].running_mean, torch.zeros(32))

def test_pseudo_labels_threshold():
    net = torch.nn.Linear(2, 2)
    with torch.no_grad(): net.weight.copy_(torch.tensor([[10., 0], [0, 10.]])); net.bias.zero_()
    keep, y = pseudo_labels(net, torch.tensor([[1., 0], [0, 1.], [0.5, 0.5]]), 0.9)
    assert keep.tolist() == [0, 1] and y.tolist() == [0, 1]

def test_coral_transform_matches_target_covariance():
    g = torch.Generator().manual_seed(0)
    Xs = torch.randn(2000, 4, generator=g).numpy(); Xt = (torch.randn(2000, 4, generator=g) @ torch.tensor([[2., 0, 0, 0], [1, 1, 0, 0], [0, 0, 3, 0], [0, 0, 0, .5]])).numpy()
    import numpy as np
    C = np.cov(coral_transform(Xs, Xt, eps=1e-6), rowvar=False)
    assert np.allclose(C, np.cov(Xt, rowvar=False), atol=0.15)

def test_bad_method():
    with pytest.raises(ValueError, match='`method` must be one of'): train_da('nope', torch.zeros(2, 3, 28, 28), torch.zeros(2, dtype=torch.long), torch.zeros(2, 3, 28, 28))

def test_model_without_domain_head():
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 28 * 28, 10))
    with pytest.raises(ValueError, match='`model` must have `features` and `classifier`'):
        train_da('DANN', torch.zeros(4, 3, 28, 28), torch.zeros(4, dtype=torch.long), torch.zeros(4, 3, 28, 28), model=net)

"Domain adaptation pieces against skada and against their definitions, on random inputs."
import math
import torch
import pytest
from hypothesis import given, settings, strategies as st
from skada.deep.losses import deepcoral_loss, dan_loss
from skada.deep.modules import GradientReversalLayer
import numpy as np
from sklearn.metrics.pairwise import rbf_kernel
from tl_course.domain_adaptation import (grad_reverse, dann_lambda, coral_loss, mmd_loss, mmd_bandwidths, adabn, pseudo_labels, DigitNet,
                                         train_da, coral_transform, self_train, finetune_with_replay, diag_fisher)

@settings(max_examples=30, deadline=None)
@given(n_s=st.integers(3, 60), n_t=st.integers(3, 60), d=st.integers(1, 40), scale=st.floats(0.1, 5.), seed=st.integers(0, 10**6))
def test_losses_equal_skada(n_s, n_t, d, scale, seed):
    g = torch.Generator().manual_seed(seed)
    s, t = torch.randn(n_s, d, generator=g), torch.randn(n_t, d, generator=g) * scale + 0.5
    assert torch.allclose(coral_loss(s, t), deepcoral_loss(s, t), rtol=1e-4, atol=1e-7)
    assert torch.allclose(mmd_loss(s, t, kernel='laplacian'), dan_loss(s, t), rtol=1e-4, atol=1e-6)

@settings(max_examples=30, deadline=None)
@given(n_s=st.integers(3, 60), n_t=st.integers(3, 60), d=st.integers(1, 40), scale=st.floats(0.1, 5.), seed=st.integers(0, 10**6))
def test_gaussian_mmd_equals_sklearn_rbf(n_s, n_t, d, scale, seed):
    "DAN's kernel: Gaussian on squared distances, checked against scikit-learn's RBF kernel in float64."
    g = torch.Generator().manual_seed(seed)
    s, t = torch.randn(n_s, d, generator=g, dtype=torch.float64), torch.randn(n_t, d, generator=g, dtype=torch.float64) * scale + 0.5
    sig = mmd_bandwidths(s, t, 'gaussian')
    k = lambda a, b: sum(rbf_kernel(a.numpy(), b.numpy(), gamma=1 / float(x)) for x in sig)
    ref = k(s, s).mean() + k(t, t).mean() - 2 * k(s, t).mean()
    assert abs(mmd_loss(s, t).item() - ref) <= 1e-9 + 1e-7 * abs(ref)
    assert mmd_loss(s, t, kernel='gaussian').item() == mmd_loss(s, t).item()     # DAN's Gaussian is the default

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
    net.train()
    adabn(net, torch.rand(64, 3, 16, 16) + 1)
    assert all(torch.equal(v, net.state_dict()[k]) for k, v in w.items())
    assert all(m.momentum == 0.1 for m in net.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)) and net.training
    assert not torch.allclose(net.features[1].running_mean, torch.zeros(16))

def test_pseudo_labels_threshold():
    net = torch.nn.Linear(2, 2)
    with torch.no_grad(): net.weight.copy_(torch.tensor([[10., 0], [0, 10.]])); net.bias.zero_()
    x = torch.tensor([[1., 0], [0, 1.], [0.5, 0.5], [0.1, 0.]])
    keep, y = pseudo_labels(net, x, threshold=0.9)
    assert keep.tolist() == [0, 1] and y.tolist() == [0, 1]
    keep, y = pseudo_labels(net, x, per_class=1)                       # class-balanced: the most confident of each predicted class
    assert keep.tolist() == [0, 1] and y.tolist() == [0, 1]
    with pytest.raises(ValueError, match='exactly one of'): pseudo_labels(net, x)

def test_coral_transform_matches_target_covariance():
    g = torch.Generator().manual_seed(0)
    Xs = torch.randn(2000, 4, generator=g).numpy(); Xt = (torch.randn(2000, 4, generator=g) @ torch.tensor([[2., 0, 0, 0], [1, 1, 0, 0], [0, 0, 3, 0], [0, 0, 0, .5]])).numpy()
    Xs_a, Xt_s = coral_transform(Xs, Xt, eps=1e-6)
    assert np.allclose(Xt_s.mean(0), 0, atol=1e-6) and np.allclose(Xt_s.std(0), 1, atol=1e-6)     # each domain standardised (Sun et al.)
    assert np.allclose(np.cov(Xs_a, rowvar=False), np.cov(Xt_s, rowvar=False), atol=0.1)

def test_bad_method():
    with pytest.raises(ValueError, match='`method` must be one of'): train_da('nope', torch.zeros(2, 3, 16, 16), torch.zeros(2, dtype=torch.long), torch.zeros(2, 3, 28, 28))

def test_model_without_domain_head():
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 28 * 28, 10))
    with pytest.raises(ValueError, match='`model` must have `features` and `classifier`'):
        train_da('DANN', torch.zeros(4, 3, 28, 28), torch.zeros(4, dtype=torch.long), torch.zeros(4, 3, 28, 28), model=net)

def test_source_only_never_sees_target():
    "The baseline's training is identical whatever the target is: target images never reach it, not even BatchNorm."
    torch.manual_seed(0)
    xs, ys = torch.rand(32, 3, 16, 16), torch.randint(0, 3, (32,))
    a = train_da('source only', xs, ys, torch.rand(16, 3, 16, 16), steps=3, bs=8)
    b = train_da('source only', xs, ys, torch.rand(16, 3, 16, 16) * 100, steps=3, bs=8)
    assert all(torch.equal(v, b.state_dict()[k]) for k, v in a.state_dict().items())

def test_dann_domain_targets_follow_the_logits_device():
    "DANN builds its domain targets on the model's device and dtype (the Colab crash): run it in float64, log the domain accuracy."
    torch.manual_seed(0)
    net = DigitNet(3).double(); log = {}
    train_da('DANN', torch.rand(16, 3, 16, 16, dtype=torch.float64), torch.randint(0, 3, (16,)), torch.rand(16, 3, 16, 16, dtype=torch.float64), steps=2, bs=4, model=net, log=log)
    assert len(log['domain_acc']) == 2 and len(log['loss']) == 2

def test_self_train_returns_state_not_on_module():
    torch.manual_seed(0)
    xs, ys = torch.rand(32, 3, 16, 16), torch.randint(0, 3, (32,))
    net = train_da('source only', xs, ys, steps=2, bs=8)
    m, used = self_train(net, xs, ys, torch.rand(20, 3, 16, 16), rounds=2, per_class=2, steps=2)
    assert not hasattr(m, 'pseudo_counts') and len(used) == 2 and all(len(k) == len(y) > 0 for k, y in used)

def test_ewc_penalty_keeps_weights_closer():
    torch.manual_seed(0)
    xo, yo, xn, yn = torch.rand(32, 3, 16, 16), torch.randint(0, 2, (32,)), torch.rand(32, 3, 16, 16), torch.randint(2, 4, (32,))
    base = train_da('source only', xo, yo, steps=5, bs=8, model=DigitNet(4))
    F_ = diag_fisher(base, xo[:8], yo[:8])
    dist = lambda m: sum((p - q).pow(2).sum().item() for p, q in zip(m.parameters(), base.parameters()))
    plain = finetune_with_replay(base, xn, yn, steps=20, bs=8)
    ewc = finetune_with_replay(base, xn, yn, steps=20, bs=8, fisher={k: v + 1. for k, v in F_.items()}, ewc_lambda=1e3)
    assert dist(ewc) < dist(plain)

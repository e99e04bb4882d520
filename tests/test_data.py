"Property tests of the data splits: stratified, disjoint, reproducible, few-shot subsets well formed."
import math
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from tl_course.data import make_split, per_class_indices, digits8x8, mnist5k, rotten_tomatoes

@settings(max_examples=40, deadline=None)
@given(n_cls=st.integers(2, 6), per=st.integers(4, 30), test_size=st.floats(0.1, 0.5), seed=st.integers(0, 10**6))
def test_make_split_is_a_stratified_partition(n_cls, per, test_size, seed):
    y = np.repeat(np.arange(n_cls), per)
    n_test = math.ceil(test_size * len(y))
    if min(n_test, len(y) - n_test) < n_cls:          # too small to hold every class on both sides: a clear error
        with pytest.raises(ValueError, match='`test_size`='): make_split('p', np.arange(len(y)), y, list(range(n_cls)), test_size, seed)
        return
    s = make_split('p', np.arange(len(y)), y, [str(i) for i in range(n_cls)], test_size, seed)
    assert sorted(np.r_[s.X_train, s.X_test].tolist()) == list(range(len(y)))          # a partition
    assert (y[s.X_train] == s.y_train).all() and (y[s.X_test] == s.y_test).all()       # labels follow items
    assert set(s.y_test) == set(range(n_cls))                                         # every class tested
    counts = np.bincount(s.y_test, minlength=n_cls)
    assert counts.max() - counts.min() <= 1                                           # stratified

@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 8), seed=st.integers(0, 10**6))
def test_per_class_indices_exact_counts(n, seed):
    y = np.repeat(np.arange(4), 10)
    idx = per_class_indices(y, n, seed)
    assert len(set(idx.tolist())) == len(idx)
    assert np.bincount(y[idx]).tolist() == [n]*4

def test_splits_are_fixed_by_seed_and_differ_across_seeds():
    a, b, c = digits8x8(seed=0), digits8x8(seed=0), digits8x8(seed=1)
    assert (a.X_test == b.X_test).all()
    assert not (a.y_test == c.y_test).all()

def test_train_and_test_images_do_not_overlap():
    s = mnist5k()
    tr = {x.tobytes() for x in s.X_train}
    assert sum(x.tobytes() in tr for x in s.X_test) < 5   # MNIST has a few exact duplicates, not more

def test_text_split_no_leak():
    "Rotten Tomatoes holds a few repeated snippets; a split must not put more than those on both sides."
    s = rotten_tomatoes()
    assert len(set(s.X_train) & set(s.X_test)) <= 5

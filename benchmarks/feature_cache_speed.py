"""Feature extraction speed, measured in one run: a head epoch on cached features vs re-running the frozen backbone.

    python benchmarks/feature_cache_speed.py [--n 512] [--size 64] [--epochs 3]

Prints the ratio (backbone-each-epoch time / cached time per epoch); goal ≥ 50×.
"""
import argparse, time
import torch
from tl_course.core import fit, make_loader, set_seed
from tl_course.zoo import efficientnet_lite0, prep_images
from tl_course.data import mnist5k
from tl_course.feature_extraction import image_features

class FrozenBackboneHead(torch.nn.Module):
    "The frozen backbone run on every batch, then a linear head: what training without a cache does."
    def __init__(self, backbone, head): super().__init__(); self.backbone, self.head = backbone.requires_grad_(False).eval(), head
    def forward(self, x):
        with torch.no_grad(): f = self.backbone.forward_head(self.backbone.forward_features(x), pre_logits=True)
        return self.head(f)

def main(n=512, size=64, epochs=3):
    set_seed(0)
    ds = mnist5k()
    X, y = ds.X_train[:n], torch.as_tensor(ds.y_train[:n])
    net = efficientnet_lite0()
    x = prep_images(X, size)
    t = time.perf_counter()
    fit(FrozenBackboneHead(net, torch.nn.Linear(1280, 10)), make_loader(x, y, batch_size=64, shuffle=True), epochs=epochs, progress=False)
    t_live = (time.perf_counter() - t) / epochs
    t = time.perf_counter()
    feats = image_features(net, X, size, progress=False, cache=False)['head']     # the one backbone pass a cache stores
    t_extract = time.perf_counter() - t
    t = time.perf_counter()
    fit(torch.nn.Linear(1280, 10), make_loader(feats, y, batch_size=64, shuffle=True), epochs=epochs, progress=False)
    t_cached = (time.perf_counter() - t) / epochs
    print(f"{n} images at {size}px: backbone each epoch {t_live*1e3:.0f} ms/epoch, cached features {t_cached*1e3:.1f} ms/epoch "
          f"-> ×{t_live / t_cached:.0f} faster per epoch (goal ≥ 50); the one-off extraction took {t_extract:.1f} s")

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--n', type=int, default=512); ap.add_argument('--size', type=int, default=64); ap.add_argument('--epochs', type=int, default=3)
    main(**vars(ap.parse_args()))

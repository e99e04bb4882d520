"""LoRA speed, measured in one run: our training step vs peft's, and merged vs base inference.

    python benchmarks/lora_speed.py [--steps 20] [--batch 32] [--seq 48]

Prints ratios (ours / peft, merged / base); goals: training ≤ 1.15×, merged inference ≤ 1.05×.
The configurations alternate step by step, so machine-load drift hits all alike; medians are reported.
"""
import argparse, copy
import torch
import torch.nn.functional as F
from peft import LoraConfig, get_peft_model
from tl_course.zoo import minilm, mean_pool
from tl_course.lora import add_lora, merge_and_unload, lora_layers, median_times

def train_step_fn(model, head, enc, y):
    params = [p for p in model.parameters() if p.requires_grad] + list(head.parameters())
    opt = torch.optim.AdamW(params, lr=1e-3)
    def step():
        loss = F.cross_entropy(head(mean_pool(model(**enc).last_hidden_state, enc['attention_mask'])), y)
        opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
    return step

def main(steps=20, batch=32, seq=48, r=8):
    torch.manual_seed(0)
    base, tok = minilm()
    enc = dict(tok(["a sentence of some length for timing the adapters"] * batch, padding='max_length', max_length=seq, return_tensors='pt'))
    y = torch.randint(0, 2, (batch,))
    ours = add_lora(copy.deepcopy(base), ('query', 'value'), r=r, alpha=2 * r).train()
    theirs = get_peft_model(copy.deepcopy(base), LoraConfig(r=r, lora_alpha=2 * r, target_modules=['query', 'value'], lora_dropout=0.0)).train()
    head_a, head_b = torch.nn.Linear(384, 2), torch.nn.Linear(384, 2)
    t = median_times({'ours': train_step_fn(ours, head_a, enc, y), 'peft': train_step_fn(theirs, head_b, enc, y)}, steps)
    print(f"training step (MiniLM, r={r}, batch {batch}×{seq}): ours {t['ours']*1e3:.1f} ms, peft {t['peft']*1e3:.1f} ms "
          f"-> ours/peft ×{t['ours']/t['peft']:.3f} (goal ≤ 1.15)")
    merged = merge_and_unload(copy.deepcopy(ours)).eval(); base.eval()
    assert not lora_layers(merged)
    with torch.no_grad():
        ti = median_times({'base': lambda: base(**enc), 'merged': lambda: merged(**enc)}, steps * 2)
    print(f"inference (batch {batch}×{seq}): base {ti['base']*1e3:.1f} ms, merged {ti['merged']*1e3:.1f} ms "
          f"-> merged/base ×{ti['merged']/ti['base']:.3f} (goal ≤ 1.05)")

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--steps', type=int, default=20); ap.add_argument('--batch', type=int, default=32)
    ap.add_argument('--seq', type=int, default=48); ap.add_argument('--r', type=int, default=8)
    main(**vars(ap.parse_args()))

"""Method families of issue 20 (items 3-7) on the chest phantom: one number per family and its cost per image.

1. counterfactual: Pearson correlation of the map with the true counterfactual (image - lesion-free twin) on
   correctly classified COVID-19 images, the flip rate, and RMA of the positive map inside the lesion mask;
2. prototypes: ProtoPNet test accuracy beside the plain backbone (same blocks, global pooling + linear);
3. concepts: concept accuracy, task accuracy, and the gain of intervening on every concept;
4. surrogate: a depth-3 tree on the concepts imitating the CNN: held-out fidelity, size, features named;
5. feature visualisation: correlation of the COVID-19 logit maximiser with the class's mean lesion template.

Measured with the defaults and --epochs 15 (seed 0, easy preset, 32 px, 600/200 images, one busy CPU thread):
smallcnn 0.945; counterfactual r 0.173 (tv=5: 0.297; saliency 0.241), flip rate 1.00, RMA 0.112 vs a mask share
of 0.041, 0.9-1.4 s/image; ProtoPNet 0.845 vs plain backbone 0.890, 4-6 ms/image per map; concepts 0.934, task
0.945 -> 1.000 with every concept intervened (+0.055); surrogate fidelity 0.945, 4 leaves, depth 3, uses n_lesions
and lesion_area only (precision 1.00); feature visualisation r -0.15 with the lesion template (healthy logit
+0.17), about 4 s/image.

Usage: python -u benchmarks/bench_families.py [--size 32] [--n-train 600] [--n-test 200] [--epochs 6] [--seed 0]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from torch import nn

from xaikit._seed import seeded
from xaikit.data import chest_covid
from xaikit.explain import counterfactual_quality, get_explainer
from xaikit.interpret import (
    ZONES,
    ConceptBottleneck,
    class_template,
    concept_accuracy,
    feature_visualisation,
    fit_concept_bottleneck,
    fit_protopnet,
    fit_surrogate,
    intervention_curve,
    phantom_concepts,
    template_correlation,
)
from xaikit.models import ProtoPNet, create_model
from xaikit.train import predict_logits

ZONE_COLS = [f"lesion_{z}" for z in ZONES]


def spatial_net(in_channels: int, outputs: int, size: int) -> nn.Module:
    """Three conv blocks and a linear layer over the whole (size/8)^2 map: keeps where things are (for zones)."""
    def block(i: int, o: int) -> list[nn.Module]:
        return [nn.Conv2d(i, o, 3, padding=1, bias=False), nn.BatchNorm2d(o), nn.ReLU(), nn.MaxPool2d(2)]
    return nn.Sequential(*block(in_channels, 16), *block(16, 32), *block(32, 32), nn.Flatten(),
                         nn.Linear(32 * (size // 8) ** 2, outputs))


def train_classifier(model: nn.Module, x: torch.Tensor, y: torch.Tensor, epochs: int, seed: int) -> nn.Module:
    """AdamW with a one-cycle schedule (the recipe of tests/data/test_learnability.py)."""
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    steps = epochs * ((len(x) + 31) // 32)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)
    gen = torch.Generator().manual_seed(seed)
    model.train()
    with seeded(seed):
        for _ in range(epochs):
            for idx in torch.randperm(len(x), generator=gen).split(32):
                loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
    return model.eval()


def acc(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    return float((predict_logits(model, x).argmax(1) == y).double().mean())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--n-train", type=int, default=600)
    ap.add_argument("--n-test", type=int, default=200)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    s, seed = args.size, args.seed
    tr = chest_covid(args.n_train, s, seed, difficulty="easy")
    te = chest_covid(args.n_test, s, seed + 1000, difficulty="easy")
    te_twin = chest_covid(args.n_test, s, seed + 1000, difficulty="easy", lesion_free=True)
    xtr, ytr = torch.from_numpy(tr.images.copy()), torch.from_numpy(tr.labels.copy())
    xte, yte = torch.from_numpy(te.images.copy()), torch.from_numpy(te.labels.copy())
    print(f"chest_covid easy {s}px train={len(xtr)} test={len(xte)} threads={torch.get_num_threads()}")

    with seeded(seed):
        cnn = create_model("smallcnn", 1, 2)
    t0 = time.perf_counter()
    cnn = train_classifier(cnn, xtr, ytr, args.epochs, seed)
    print(f"smallcnn: test accuracy {acc(cnn, xte, yte):.3f} ({time.perf_counter() - t0:.0f} s training)")

    # 1. Counterfactual vs the true counterfactual, on correctly classified COVID-19 test images.
    pred = predict_logits(cnn, xte).argmax(1)
    sel = torch.nonzero((yte == 1) & (pred == 1)).flatten()[:32]
    if len(sel) == 0:
        print("no correctly classified COVID-19 test image: using every COVID-19 image", flush=True)
        sel = torch.nonzero(yte == 1).flatten()[:32]
    cf = get_explainer("counterfactual", n_steps=200, lr=0.01, l2=1.0, tv=1.0, clamp=(0.0, 1.0))
    t0 = time.perf_counter()
    maps = cf.attribute(cnn, xte[sel], 1)
    dt = (time.perf_counter() - t0) / len(sel)
    q = counterfactual_quality(cnn, xte[sel], maps, 1)
    truth = te.images[sel.numpy()] - te_twin.images[sel.numpy()]
    r = [np.corrcoef(m.ravel(), t.ravel())[0, 1] for m, t in zip(maps.numpy(), truth, strict=True)]
    pos = maps.clamp(min=0)[:, 0].numpy()
    rma = [p[m].sum() / p.sum() for p, m in zip(pos, te.masks[sel.numpy(), 0], strict=True)]
    share = te.masks[sel.numpy(), 0].mean()
    sal = get_explainer("saliency").attribute(cnn, xte[sel], 1).numpy()
    r_sal = [np.corrcoef(m.ravel(), t.ravel())[0, 1] for m, t in zip(sal, truth, strict=True)]
    print(f"1. counterfactual: Pearson r with (image - twin) {np.mean(r):.3f} (saliency {np.mean(r_sal):.3f}); "
          f"flip rate {q['valid'].double().mean():.2f}; RMA {np.mean(rma):.3f} (mask share {share:.3f}); "
          f"L1 {q['l1'].mean():.4f}; {dt * 1e3:.0f} ms/image")
    smooth = get_explainer("counterfactual", n_steps=200, lr=0.01, l2=1.0, tv=5.0, clamp=(0.0, 1.0))
    maps5 = smooth.attribute(cnn, xte[sel], 1)
    q5 = counterfactual_quality(cnn, xte[sel], maps5, 1)
    r5 = [np.corrcoef(m.ravel(), t.ravel())[0, 1] for m, t in zip(maps5.numpy(), truth, strict=True)]
    print(f"   with tv=5: r {np.mean(r5):.3f}; flip rate {q5['valid'].double().mean():.2f}", flush=True)

    # 2. Prototypes beside the plain backbone.
    with seeded(seed):
        proto = ProtoPNet(1, 2, prototypes_per_class=5)
        plain = nn.Sequential(*ProtoPNet(1, 2).features, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 2))
    t0 = time.perf_counter()
    fit_protopnet(proto, xtr, ytr, epochs=args.epochs, batch_size=32, lr=2e-3, seed=seed)
    t_proto = time.perf_counter() - t0
    t0 = time.perf_counter()
    plain = train_classifier(plain, xtr, ytr, args.epochs, seed)
    t_plain = time.perf_counter() - t0
    t0 = time.perf_counter()
    pm = get_explainer("prototype").attribute(proto, xte[sel], 1)
    dt = (time.perf_counter() - t0) / len(sel)
    pos = pm[:, 0].numpy()
    pos = pos - pos.min(axis=(1, 2), keepdims=True)
    rma_p = [p[m].sum() / p.sum() for p, m in zip(pos, te.masks[sel.numpy(), 0], strict=True)]
    print(f"2. prototypes: ProtoPNet accuracy {acc(proto, xte, yte):.3f} (after push; {t_proto:.0f} s training) vs "
          f"plain backbone {acc(plain, xte, yte):.3f} ({t_plain:.0f} s); "
          f"prototype-map RMA {np.mean(rma_p):.3f}; {dt * 1e3:.1f} ms/image")

    # 3. Concept bottleneck on the generator's lesion zones.
    ctr_c = torch.tensor(phantom_concepts(tr)[ZONE_COLS].to_numpy(), dtype=torch.float32)
    cte_c = torch.tensor(phantom_concepts(te)[ZONE_COLS].to_numpy(), dtype=torch.float32)
    with seeded(seed):
        cbm = ConceptBottleneck(spatial_net(1, len(ZONES), s), len(ZONES), 2)
    t0 = time.perf_counter()
    fit_concept_bottleneck(cbm, xtr, ctr_c, ytr, epochs=args.epochs, batch_size=32, lr=2e-3, seed=seed)
    t_cbm = time.perf_counter() - t0
    c_acc = concept_accuracy(cbm, xte, cte_c)
    curve = intervention_curve(cbm, xte, cte_c, yte)
    print(f"3. concepts: concept accuracy {c_acc.mean():.3f} (per zone {np.round(c_acc.numpy(), 3).tolist()}); "
          f"task accuracy {curve['accuracy'].iloc[0]:.3f} -> {curve['accuracy'].iloc[-1]:.3f} with all "
          f"{len(ZONES)} concepts intervened (gain {curve['accuracy'].iloc[-1] - curve['accuracy'].iloc[0]:+.3f}); "
          f"{t_cbm:.0f} s training")

    # 4. Surrogate tree of the CNN on the concepts (ctr is a distractor the label never used).
    feats_tr = phantom_concepts(tr).astype(float)
    feats_te = phantom_concepts(te).astype(float)
    t0 = time.perf_counter()
    sur = fit_surrogate(feats_tr, predict_logits(cnn, xtr).argmax(1).numpy(), eval_features=feats_te,
                        eval_predictions=pred.numpy(), max_depth=3,
                        true_features=[*ZONE_COLS, "n_lesions", "lesion_area"], seed=seed)
    dt = (time.perf_counter() - t0) / len(feats_tr)
    print(f"4. surrogate: held-out fidelity {sur.fidelity:.3f}; {sur.n_leaves} leaves, depth {sur.depth}; uses "
          f"{list(sur.used)}; precision {sur.precision:.2f} (share of used features the generator used); "
          f"{dt * 1e6:.0f} us/image")

    # 5. Feature visualisation of the COVID-19 logit vs the mean lesion template.
    tpl = class_template(te.images, te_twin.images, te.labels, 1)
    t0 = time.perf_counter()
    base = torch.from_numpy(tr.images[tr.labels == 0].mean(0))  # start from the mean healthy chest
    v = feature_visualisation(cnn, [1, 1, 1], (1, s, s), n_steps=256, lr=0.05, base=base, seed=seed)
    dt = (time.perf_counter() - t0) / 3
    v_healthy = feature_visualisation(cnn, [0], (1, s, s), n_steps=256, lr=0.05, base=base, seed=seed)
    r_fv, r_h = template_correlation(v.numpy(), tpl), template_correlation(v_healthy.numpy(), tpl)[0]
    print(f"5. feature visualisation: r with the COVID-19 lesion template {np.mean(r_fv):.3f} "
          f"(per restart {np.round(r_fv, 3).tolist()}; healthy logit {r_h:.3f}); "
          f"{dt:.1f} s/image")


if __name__ == "__main__":
    main()

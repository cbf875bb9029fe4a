"""A briefly trained vision transformer: accuracy on a shortcut phantom and where its attention maps point."""
import pytest
import torch

from xaikit._seed import seeded
from xaikit.data import load
from xaikit.explain import get_explainer
from xaikit.metrics import relevance_mass_accuracy
from xaikit.models import create_model
from xaikit.train import TrainConfig, fit, predict_logits


@pytest.mark.slow
def test_vit_learns_a_marker_shortcut_and_gradient_rollout_points_at_it():
    # every COVID-19 image carries a marker (shortcut=1.0): a strong local signal the ViT learns in a few
    # epochs on a CPU (the lesions alone need far longer); the marker's mask is the ground truth.
    data = {s: load("chest_covid", s, n=600, image_size=64, seed=0, shortcut=1.0) for s in ("train", "val", "test")}

    def xy(split):
        return torch.from_numpy(data[split].images), torch.from_numpy(data[split].labels)

    with seeded(0):
        model = create_model("vit_tiny_phantom", 1, 2)
    res = fit(model, xy("train"), xy("val"), TrainConfig(epochs=8, batch_size=32, optimizer="adam", lr=5e-4,
                                                          select="val_accuracy", device="cpu", seed=0))
    x, y = xy("test")
    accuracy = (predict_logits(res.model, x).argmax(1) == y).float().mean().item()
    assert accuracy >= 0.9  # chance is 0.5; 60 test images make 0.9 more than 6 binomial SEs above it
    marked = y == 1
    marker = torch.from_numpy(data["test"].shortcut_masks)[marked]
    area = marker.float().mean().item()  # what a uniform map scores
    a = get_explainer("attention_grad_rollout").attribute(res.model, x[marked], 1)
    mass = relevance_mass_accuracy(a, marker, sign="positive").nanmean().item()
    assert mass > 1.5 * area, (mass, area)  # measured: 1.85x the area (seed 0)

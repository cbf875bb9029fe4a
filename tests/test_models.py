import pytest
import torch

from xaikit._seed import seeded
from xaikit.models import MODELS, count_parameters, create_model

# torchvision ResNets with a 1-channel first conv and a 2-class head (seed-studies.md §1.4).
TORCHVISION_COUNTS = {"resnet18": 11_171_266, "resnet34": 21_279_426, "resnet50": 23_505_858,
                      "resnet101": 42_497_986}

# Paper 003's Table 1 (1 input channel, 2 classes).
PAPER003_COUNTS = {"paper003_resnet18": 6_139_842, "paper003_resnet34": 12_329_218,
                   "paper003_resnet50": 23_532_418, "paper003_resnet101": 42_550_658}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_registered_model_contract(name):
    with seeded(0):
        model = create_model(name, in_channels=1, num_classes=3).eval()
    x = torch.rand(2, 1, 64, 64, requires_grad=True)
    out = model(x)
    assert out.shape == (2, 3)
    out[:, 1].sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


@pytest.mark.parametrize("name,count", sorted(TORCHVISION_COUNTS.items()))
def test_torchvision_resnet_parameter_counts(name, count):
    assert count_parameters(create_model(name, in_channels=1, num_classes=2)) == count


@pytest.mark.parametrize("name,count", sorted(PAPER003_COUNTS.items()))
def test_paper003_resnet_reproduces_table1_exactly(name, count):
    assert count_parameters(create_model(name, in_channels=1, num_classes=2)) == count


def test_unknown_model_name_suggests():
    with pytest.raises(ValueError, match="Did you mean 'resnet34'"):
        create_model("resnet43")


def test_weights_load_from_local_file_and_mismatch_is_clear(tmp_path):
    with seeded(1):
        src = create_model("smallcnn", 1, 2)
    path = tmp_path / "w.pt"
    torch.save(src.state_dict(), path)
    dst = create_model("smallcnn", 1, 2, weights=path)
    for (k, a), b in zip(src.state_dict().items(), dst.state_dict().values(), strict=False):
        assert torch.equal(a, b), k
    with pytest.raises(ValueError, match=r"do not fit smallcnn\(1, 5\)"):
        create_model("smallcnn", 1, 5, weights=path)
    with pytest.raises(FileNotFoundError, match="nothing is downloaded"):
        create_model("smallcnn", 1, 2, weights=tmp_path / "missing.pt")


def test_seeded_initialisation_is_reproducible_and_leaves_global_rng_alone():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    with seeded(5):
        a = create_model("smallcnn", 1, 2)
    after = torch.rand(1)
    with seeded(5):
        b = create_model("smallcnn", 1, 2)
    assert torch.equal(before, after)
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values(), strict=False))

"""Contract over every registered model, parameter counts (paper 003 Table 1), local weights."""
import pytest
import torch
from torch import nn

from xaikit._seed import seeded
from xaikit.models import MODEL_INFO, MODELS, count_parameters, create_model, parameter_table
from xaikit.studies import load_published

# torchvision ResNets with a 1-channel first conv and a 2-class head (seed-studies.md §1.4).
TORCHVISION_COUNTS = {"resnet18": 11_171_266, "resnet34": 21_279_426, "resnet50": 23_505_858,
                      "resnet101": 42_497_986}
# Paper 003's Table 1 (1 input channel, 2 classes), written out here, not imported.
PAPER003_COUNTS = {"paper003_resnet18": 6_139_842, "paper003_resnet34": 12_329_218,
                   "paper003_resnet50": 23_532_418, "paper003_resnet101": 42_550_658}
KNOWN_COUNTS = {**TORCHVISION_COUNTS, **PAPER003_COUNTS}
# Seconds per forward+backward on a busy 2-core CPU; the rest run in the slow suite.
FAST = {"tinycnn", "smallcnn", "resnet18", "paper003_resnet18", "vit_tiny_phantom", "protopnet"}


def _models():
    return [pytest.param(n, marks=() if n in FAST else pytest.mark.slow) for n in sorted(MODELS)]


@pytest.mark.parametrize("name", _models())
def test_registered_model_contract(name):
    with seeded(0):
        model = create_model(name, in_channels=1, num_classes=3).eval()
    size = max(32, MODEL_INFO[name].min_input_size)
    x = torch.rand(2, 1, size, size, requires_grad=True)
    out = model(x)
    assert isinstance(out, torch.Tensor) and out.shape == (2, 3)
    out[:, 1].sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    if name in KNOWN_COUNTS:
        assert count_parameters(create_model(name, 1, 2)) == KNOWN_COUNTS[name]
    # Three input channels and one output work too (the first conv and the head adapt).
    with seeded(0):
        rgb = create_model(name, in_channels=3, num_classes=1).eval()
    assert rgb(torch.rand(1, 3, size, size)).shape == (1, 1)


def test_every_model_has_info_and_a_one_line_description():
    assert set(MODEL_INFO) == set(MODELS)
    assert {"resnet18", "resnet34", "resnet50", "resnet101", "densenet121", "inception_v3", "smallcnn",
            "tinycnn", *PAPER003_COUNTS} <= set(MODELS)
    for name, info in MODEL_INFO.items():
        assert info.description and "\n" not in info.description, name
        assert info.min_input_size >= 1


def test_paper003_resnets_match_the_published_table1_exactly():
    """The published Table 1 (shipped data, with its source) is the oracle for our paper003 ResNets."""
    published = load_published("01_model_complexity", "table1_parameters").set_index("depth")["trainable"]
    table = parameter_table([*PAPER003_COUNTS, *TORCHVISION_COUNTS]).set_index("model")
    for depth, count in published.items():
        assert table.loc[f"paper003_resnet{depth}", "trainable"] == count
        assert table.loc[f"resnet{depth}", "parameters"] == TORCHVISION_COUNTS[f"resnet{depth}"] != count
    other = parameter_table(["densenet121"], in_channels=3, num_classes=1000)
    assert other.loc[0, "parameters"] == 7_978_856  # torchvision's published DenseNet-121 count


def test_table1_counts_on_real_cpu_models_equal_the_meta_device_counts():
    """The table builds on the meta device; one real model shows that counts the same."""
    assert count_parameters(create_model("paper003_resnet18", 1, 2)) == PAPER003_COUNTS["paper003_resnet18"]


@pytest.mark.slow
@pytest.mark.parametrize("name,count", sorted(KNOWN_COUNTS.items()))
def test_known_parameter_counts_on_real_models(name, count):
    assert count_parameters(create_model(name, in_channels=1, num_classes=2)) == count


def test_unknown_model_name_suggests():
    with pytest.raises(ValueError, match="Did you mean 'resnet34'"):
        create_model("resnet43")
    with pytest.raises(ValueError, match="in_channels of create_model must be an int >= 1"):
        create_model("tinycnn", in_channels=0)


def test_weights_load_from_local_file_and_mismatch_is_clear(tmp_path):
    with seeded(1):
        src = create_model("smallcnn", 1, 2)
    path = tmp_path / "w.pt"
    torch.save(src.state_dict(), path)
    dst = create_model("smallcnn", 1, 2, weights=path)
    assert src.state_dict().keys() == dst.state_dict().keys()
    for k, v in src.state_dict().items():
        assert torch.equal(v, dst.state_dict()[k]), k
    with pytest.raises(ValueError, match=r"do not fit smallcnn\(1, 5\): 2 shape mismatch\(es\): 16.weight: "
                                         r"file \(2, 64\) vs model \(5, 64\)"):
        create_model("smallcnn", 1, 5, weights=path)
    with pytest.raises(ValueError, match=r"missing key\(s\)"):
        create_model("tinycnn", 1, 2, weights=path)
    with pytest.raises(FileNotFoundError, match="nothing is downloaded"):
        create_model("smallcnn", 1, 2, weights=tmp_path / "missing.pt")


def test_weights_are_loaded_with_weights_only(tmp_path):
    path = tmp_path / "module.pt"
    torch.save(nn.Linear(2, 2), path)  # a pickled module, not a state_dict: refused, never executed
    with pytest.raises(ValueError, match="weights_only=True"):
        create_model("tinycnn", 1, 2, weights=path)


@pytest.mark.slow
def test_inception_v3_states_its_minimum_size_and_returns_main_logits_in_training():
    with seeded(0):
        model = create_model("inception_v3", 1, 4)
    assert MODEL_INFO["inception_v3"].min_input_size == 75
    model.train()
    out = model(torch.rand(2, 1, 75, 75))
    assert isinstance(out, torch.Tensor) and out.shape == (2, 4)  # no auxiliary head
    with pytest.raises(ValueError, match=r"inception_v3 needs inputs .* H, W >= 75 pixels"):
        model.eval()(torch.rand(1, 1, 74, 80))


@pytest.mark.slow
def test_densenet121_accepts_its_minimum_size():
    model = create_model("densenet121", 1, 2).eval()
    size = MODEL_INFO["densenet121"].min_input_size
    assert model(torch.rand(1, 1, size, size)).shape == (1, 2)
    with pytest.raises(RuntimeError):
        model(torch.rand(1, 1, size - 1, size - 1))


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
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values(), strict=True))

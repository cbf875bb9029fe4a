"""Width-reduced paper-003 ResNets: same depth and blocks as the paper's, fewer channels."""
import pytest
import torch
from torch import nn

from xaikit._seed import seeded
from xaikit.models import MODELS, Paper003ResNet, count_parameters, create_model, parameter_table
from xaikit.studies import load_published

# Paper 003's Table 1, from the published data the package ships (depth -> trainable parameters)
PAPER003_TABLE1 = load_published("01_model_complexity", "table1_parameters").set_index("depth")["trainable"].to_dict()
DEPTHS = sorted(PAPER003_TABLE1)


def _layout(model: nn.Module) -> list[tuple[str, str, tuple]]:
    """Every module's name, type and kernel size/stride (what the width must not change)."""
    return [(n, type(m).__name__, getattr(m, "kernel_size", None), getattr(m, "stride", None))
            for n, m in model.named_modules()]


@pytest.mark.parametrize("depth", DEPTHS)
def test_width_64_is_the_paper_model_and_reduced_widths_keep_its_layout(depth):
    with torch.device("meta"):
        full = Paper003ResNet(depth, 1, 2, width=64)
        assert count_parameters(full) == PAPER003_TABLE1[depth]
        for width in (8, 16, 32):
            reduced = MODELS[f"paper003_resnet{depth}_w{width}"](1, 2)
            assert _layout(reduced) == _layout(full)
            assert reduced.conv1.out_channels == width and reduced.layer4[0].conv3.out_channels == \
                8 * width * (4 if depth > 34 else 1)
            # every conv weight is the full one scaled down in both channel counts (the stem in one)
            ratio = count_parameters(reduced) / count_parameters(full)
            assert (width / 64) ** 2 < ratio < (width / 64) ** 2 * 1.1 + 0.01


def test_study1_puts_reduced_models_beside_table1():
    from xaikit.studies.model_complexity.analysis import parameters_vs_paper

    names = [f"paper003_resnet{d}_w16" for d in DEPTHS]
    table = parameters_vs_paper(names).set_index("arch")
    counts = parameter_table(names).set_index("model")["trainable"]
    for d, name in zip(DEPTHS, names, strict=True):
        assert table.loc[name, "paper"] == PAPER003_TABLE1[d] and table.loc[name, "ours"] == counts[name]
        assert table.loc[name, "difference"] == counts[name] - PAPER003_TABLE1[d]
        assert table.loc[name, "model"] == f"ResNet-{d} (width 16)"
    assert counts.is_monotonic_increasing  # deeper is larger at one width


def test_reduced_resnet_trains_a_step_and_rejects_a_bad_width():
    with seeded(0):
        model = create_model("paper003_resnet18_w8", 1, 2)
    x, y = torch.rand(4, 1, 32, 32), torch.tensor([0, 1, 0, 1])
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    assert torch.isfinite(loss) and model.conv1.weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="width of Paper003ResNet must be an int >= 1"):
        Paper003ResNet(18, width=0)


@pytest.mark.parametrize("depth", DEPTHS)
def test_reduced_variants_start_every_block_as_its_shortcut(depth):
    """Zero-initialised residual branches: at initialisation (eval mode) a block without a projection returns
    relu(its input) exactly, and one with a projection relu(projection(input)); the paper's own model does not."""
    from xaikit.models._paper003 import Paper003Block

    with seeded(0):
        reduced = MODELS[f"paper003_resnet{depth}_w8"](1, 2).eval()
        paper = Paper003ResNet(depth, 1, 2, width=8).eval()
    x = torch.randn(2, 8 * (4 if depth > 34 else 1), 8, 8)
    plain = reduced.layer1[1]
    assert plain.downsample is None
    torch.testing.assert_close(plain(x), torch.relu(x), rtol=0, atol=0)
    first = reduced.layer1[0]
    x0 = torch.randn(2, 8, 8, 8)
    torch.testing.assert_close(first(x0), torch.relu(first.downsample(x0)), rtol=0, atol=0)
    assert all(float(b.bn3.weight.abs().sum()) == 0 for b in reduced.modules() if isinstance(b, Paper003Block))
    assert all(bool((b.bn3.weight == 1).all()) for b in paper.modules() if isinstance(b, Paper003Block))
    assert not torch.equal(paper.layer1[1](x), torch.relu(x))

"""Attention explainers on a timm vision transformer: capture, rollout and gradient rollout against oracles."""
import numpy as np
import pytest
import torch

from xaikit._seed import seeded
from xaikit.explain import capture_attention, get_explainer, grad_rollout, rollout
from xaikit.models import create_model


@pytest.fixture(scope="module")
def vit():
    with seeded(0):
        return create_model("vit_tiny_phantom", 1, 3).eval()


def _random_attention(rng, b, h, n):
    """Row-stochastic (B, heads, N, N) float64 attention: a softmax of random scores."""
    return torch.from_numpy(rng.normal(size=(b, h, n, n)) * 2).softmax(dim=-1)


def _naive_rollout(layers, residual, fuse):
    """Per image, per layer: fuse heads, add the identity, renormalise rows, multiply (numpy)."""
    out = []
    for b in range(layers[0].shape[0]):
        joint = None
        for a in layers:
            m = fuse(a[b].numpy(), axis=0)
            if residual:
                m = 0.5 * m + 0.5 * np.eye(m.shape[0])
                m = m / m.sum(axis=1, keepdims=True)
            joint = m if joint is None else m @ joint
        out.append(joint)
    return np.stack(out)


@pytest.mark.parametrize("residual", [True, False])
@pytest.mark.parametrize("fusion,fuse", [("mean", np.mean), ("max", np.max), ("min", np.min)])
def test_rollout_equals_a_naive_matrix_product_over_layers(residual, fusion, fuse):
    rng = np.random.default_rng(0)
    layers = [_random_attention(rng, 2, 3, 6) for _ in range(4)]
    got = rollout(layers, residual=residual, head_fusion=fusion)
    np.testing.assert_allclose(got.numpy(), _naive_rollout(layers, residual, fuse), rtol=1e-12, atol=1e-14)
    if residual or fusion == "mean":  # products of row-stochastic matrices stay row-stochastic
        np.testing.assert_allclose(got.sum(-1).numpy(), 1.0, rtol=1e-12)


def test_rollout_of_identity_attention_is_the_identity_and_gives_a_uniform_map():
    eye = torch.eye(65, dtype=torch.float64).expand(2, 4, 65, 65)
    joint = rollout([eye] * 4)
    assert torch.equal(joint, torch.eye(65, dtype=torch.float64).expand(2, 65, 65))
    patches = joint[:, 0, 1:]  # the class token's row over the 64 patch tokens
    assert torch.equal(patches, torch.full_like(patches, patches[0, 0].item()))


def test_rollout_of_uniform_attention_in_a_vit_is_uniform_with_the_analytic_value(vit):
    # q = k = 0 in every block: every attention row is exactly 1/N, so with the residual each layer is
    # 0.5 J/N + 0.5 I and the product of L of them is 0.5^L I + (1 - 0.5^L) J/N.
    uniform = create_model("vit_tiny_phantom", 1, 3).eval()
    uniform.load_state_dict(vit.state_dict())
    with torch.no_grad():
        for blk in uniform.blocks:
            dim = blk.attn.qkv.in_features
            blk.attn.qkv.weight[:2 * dim] = 0
            blk.attn.qkv.bias[:2 * dim] = 0
    x = torch.rand(3, 1, 64, 64, generator=torch.Generator().manual_seed(1))
    n, depth = 65, len(uniform.blocks)
    roll = get_explainer("attention_rollout").attribute(uniform, x, 0)
    torch.testing.assert_close(roll, torch.full_like(x, (1 - 0.5 ** depth) / n), rtol=1e-5, atol=0)
    last = get_explainer("attention_last").attribute(uniform, x, 0)
    torch.testing.assert_close(last, torch.full_like(x, 1 / n), rtol=1e-5, atol=0)


def test_captured_attention_is_softmax_of_q_k_from_the_qkv_projection(vit):
    x = torch.rand(2, 1, 64, 64, generator=torch.Generator().manual_seed(2))
    inputs = []
    hook = vit.blocks[2].attn.register_forward_hook(lambda m, i, o: inputs.append(i[0]))
    fused_before = [blk.attn.fused_attn for blk in vit.blocks]
    try:
        with torch.no_grad(), capture_attention(vit) as maps:
            captured_logits = vit(x)
    finally:
        hook.remove()
    assert len(maps) == len(vit.blocks) and maps[0].shape == (2, 4, 65, 65)
    attn = vit.blocks[2].attn
    tokens = inputs[0].double()
    qkv = tokens @ attn.qkv.weight.double().T + attn.qkv.bias.double()
    q, k, _ = qkv.reshape(2, 65, 3, 4, 16).permute(2, 0, 3, 1, 4)
    expected = (q @ k.transpose(-2, -1) / np.sqrt(16)).softmax(-1)
    torch.testing.assert_close(maps[2].double(), expected, rtol=1e-4, atol=1e-6)
    # the switch is restored and the unfused forward computes the same logits as the fused one
    assert [blk.attn.fused_attn for blk in vit.blocks] == fused_before
    with torch.no_grad():
        torch.testing.assert_close(vit(x), captured_logits, rtol=1e-4, atol=1e-5)


def test_grad_rollout_equals_a_naive_loop_and_reduces_to_identity_without_gradient():
    rng = np.random.default_rng(3)
    layers = [_random_attention(rng, 2, 3, 5) for _ in range(3)]
    grads = [torch.from_numpy(rng.normal(size=(2, 3, 5, 5))) for _ in range(3)]
    expected = []
    for b in range(2):
        r = np.eye(5)
        for a, g in zip(layers, grads, strict=True):
            cam = np.maximum(g[b].numpy() * a[b].numpy(), 0).mean(axis=0)
            r = r + cam @ r
        expected.append(r)
    np.testing.assert_allclose(grad_rollout(layers, grads).numpy(), np.stack(expected), rtol=1e-12)
    zero = grad_rollout(layers, [torch.zeros_like(g) for g in grads])
    assert torch.equal(zero, torch.eye(5, dtype=torch.float64).expand(2, 5, 5))


def test_grad_rollout_depends_on_the_target_and_rollout_does_not(vit):
    x = torch.rand(2, 1, 64, 64, generator=torch.Generator().manual_seed(4))
    g0 = get_explainer("attention_grad_rollout").attribute(vit, x, 0)
    g1 = get_explainer("attention_grad_rollout").attribute(vit, x, 1)
    assert (g0 >= 0).all() and not torch.allclose(g0, g1)
    r0 = get_explainer("attention_rollout").attribute(vit, x, 0)
    assert torch.equal(r0, get_explainer("attention_rollout").attribute(vit, x, 1))


def test_maps_of_an_input_that_is_not_a_multiple_of_the_patch(vit):
    # 20 px: the model pads to 24 (a 3 x 3 grid); the map is cropped back to the input
    x = torch.rand(1, 1, 20, 20, generator=torch.Generator().manual_seed(5))
    a = get_explainer("attention_rollout", interpolation="nearest").attribute(vit, x, 0)
    assert a.shape == x.shape
    # nearest upsampling: 8 x 8 blocks of one value, the last block cut to 4 px
    assert torch.equal(a[0, 0, :8, :8], a[0, 0, :1, :1].expand(8, 8))
    assert torch.equal(a[0, 0, 16:, 16:], a[0, 0, 16:17, 16:17].expand(4, 4))


def test_rollout_rejects_bad_arguments():
    with pytest.raises(ValueError, match="at least one layer"):
        rollout([])
    with pytest.raises(ValueError, match=r"\(B, heads, N, N\)"):
        rollout([torch.rand(2, 3, 4)])
    with pytest.raises(ValueError, match="one gradient per attention layer"):
        grad_rollout([torch.rand(1, 1, 3, 3)], [])

"""Augmentations: seeded, batched, exact on the cases with a closed form."""
import pytest
import torch

from xaikit.train import AUGMENTATIONS, Augment, get_augmentation, per_sample


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


X = torch.rand(6, 2, 12, 12, generator=_gen(99))


@pytest.mark.parametrize("name", sorted(n for n in AUGMENTATIONS if n != "none"))
def test_named_pipelines_are_seeded_keep_shape_and_range_and_leave_the_global_rng_alone(name):
    aug = get_augmentation(name)
    torch.manual_seed(3)
    expected = torch.rand(2)
    torch.manual_seed(3)
    a = aug(X, _gen(1))
    assert torch.equal(torch.rand(2), expected)
    assert torch.equal(a, aug(X, _gen(1)))
    assert not torch.equal(a, aug(X, _gen(2)))
    assert a.shape == X.shape and a.min() >= 0 and a.max() <= 1
    assert not torch.equal(a, X)


def test_paper_pipelines_state_their_magnitudes():
    p4 = AUGMENTATIONS["paper004"]
    assert (p4.rotation, p4.shift, p4.zoom, p4.hflip, p4.brightness) == (20, (0.2, 0.2), 0.09, 0.5, (0.8, 1.5))
    assert p4.vflip == 0 and p4.channel_shift == pytest.approx(0.2 / 255)
    p2 = AUGMENTATIONS["paper002"]
    assert p2.rotation == 45 and p2.crop_padding == 8 / 320 and p2.blur_kernel == 10 / 320 and p2.blur > 0
    assert AUGMENTATIONS["none"] is None


def test_identity_and_flips_are_exact():
    torch.testing.assert_close(Augment(rotation=0.0, hflip=0.0, vflip=0.0)(X, _gen()), X)
    torch.testing.assert_close(Augment(hflip=1.0)(X, _gen()), X.flip(-1), atol=1e-6, rtol=0)
    torch.testing.assert_close(Augment(vflip=1.0)(X, _gen()), X.flip(-2), atol=1e-6, rtol=0)


def test_a_90_degree_rotation_is_rot90():
    out = Augment(rotation=90.0)._warp(X, lambda lo, hi: torch.full((6,), float(hi), dtype=torch.float64),
                                       lambda p: torch.zeros(6, dtype=torch.bool))
    ref = torch.rot90(X, 1, dims=(-2, -1))
    ok = [torch.allclose(out, ref, atol=1e-5), torch.allclose(out, torch.rot90(X, -1, dims=(-2, -1)), atol=1e-5)]
    assert any(ok)


def test_crop_padding_is_an_integer_shift_with_zero_fill():
    out = Augment(crop_padding=0.25)(X, _gen(5))  # pad 3 px
    for img, src in zip(out, X, strict=True):
        matches = []
        for dy in range(-3, 4):
            for dx in range(-3, 4):
                ref = torch.zeros_like(src)
                h, w = src.shape[-2:]
                ys, yd = slice(max(0, -dy), h - max(0, dy)), slice(max(0, dy), h - max(0, -dy))
                xs, xd = slice(max(0, -dx), w - max(0, dx)), slice(max(0, dx), w - max(0, -dx))
                ref[:, yd, xd] = src[:, ys, xs]
                matches.append(torch.allclose(img, ref, atol=1e-5))
        assert sum(matches) == 1


def test_brightness_scales_and_clips_and_box_blur_averages():
    out = Augment(brightness=(2.0, 2.0))(X, _gen())
    torch.testing.assert_close(out, (2 * X).clamp(0, 1))
    blurred = Augment(blur=1.0, blur_kernel=3 / 12)(X, _gen())  # a 3x3 mean filter
    torch.testing.assert_close(blurred[..., 1:-1, 1:-1], torch.nn.functional.avg_pool2d(X, 3, stride=1))


def test_per_sample_wraps_torchvision_v2_deterministically():
    from torchvision.transforms import v2

    aug = per_sample(v2.RandomRotation(30))
    torch.manual_seed(0)
    expected = torch.rand(1)
    torch.manual_seed(0)
    a = aug(X, _gen(4))
    assert torch.equal(torch.rand(1), expected) and torch.equal(a, aug(X, _gen(4)))
    same = aug(X[:1].expand(4, -1, -1, -1), _gen(4))
    assert not torch.equal(same[0], same[1])  # each sample gets its own draw


def test_unknown_pipeline_suggests():
    with pytest.raises(ValueError, match="Did you mean 'paper002'"):
        get_augmentation("paper02")

"""Per-region relevance mass: body masks, image regions, mass fractions against a naive loop and analytic cases."""
import numpy as np
import pytest
import torch

from xaikit.metrics import body_mask, image_regions, mass_fractions


# --------------------------------------------------------------------------- regions
def test_body_mask_fills_holes_and_drops_a_corner_marker():
    x = np.zeros((1, 1, 32, 32), np.float32)
    yy, xx = np.mgrid[:32, :32]
    ring = ((yy - 16) ** 2 + (xx - 16) ** 2 < 12 ** 2)
    x[0, 0][ring] = 0.8
    x[0, 0][(yy - 16) ** 2 + (xx - 16) ** 2 < 5 ** 2] = 0.02  # dark inside (lungs, ventricles)
    x[0, 0, 1:4, 28:31] = 0.97  # a corner marker, outside the body
    body = body_mask(x, smooth=1)
    assert np.array_equal(body[0, 0], ring)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        body_mask(np.zeros((4, 4)))



def test_image_regions_partition_the_image():
    from xaikit.data import load

    ds = load("lung_ct", "all", n=6, image_size=32, seed=0, shortcut=1.0, shortcut_class="malignant")
    reg = image_regions(ds.images, organ=ds.organ_masks, lesion=ds.masks, shortcut=ds.shortcut_masks)
    assert list(reg) == ["organ", "lesion", "body_not_organ", "outside_body", "shortcut"]
    total = reg["organ"].astype(int) + reg["body_not_organ"] + reg["outside_body"]
    assert (total == 1).all()
    assert not (reg["organ"] & reg["outside_body"]).any()
    assert not (reg["shortcut"] & ~reg["outside_body"]).any()  # the marker sits outside the body
    with pytest.raises(ValueError, match="organ masks must have shape"):
        image_regions(ds.images, organ=ds.organ_masks[:, :, :8])



@pytest.mark.parametrize("sign", ["absolute", "positive"])
def test_mass_fractions_equal_a_naive_loop(sign):
    rng = np.random.default_rng(7)
    a = rng.normal(size=(5, 2, 9, 7))
    masks = {"left": rng.random((5, 1, 9, 7)) < 0.3}
    masks["right"] = ~masks["left"]
    masks["left"][4] = False  # an empty region
    f = mass_fractions(a, masks, sign=sign, index=np.arange(5) + 100)
    assert list(f.columns) == ["image", "region", "fraction", "area", "reason"]
    for name, m in masks.items():
        got = f[f["region"] == name].sort_values("image")
        np.testing.assert_allclose(got["fraction"], _naive_fractions(a, m, sign), rtol=1e-12, equal_nan=True)
        np.testing.assert_allclose(got["area"], m.reshape(5, -1).mean(1))
    assert f[(f["region"] == "left") & (f["image"] == 104)]["reason"].iloc[0].startswith("empty mask")
    # complementary regions hold all of the mass
    both = f.pivot(index="image", columns="region", values="fraction").loc[100:103]
    np.testing.assert_allclose(both.sum(axis=1), 1.0)



def test_mass_fractions_analytic_cases():
    m = np.zeros((2, 1, 4, 4), bool)
    m[:, 0, 1:3, 1:3] = True
    a = np.zeros((2, 1, 4, 4))
    a[0][m[0]] = 2.0  # all mass in the lesion
    a[1] = -1.0  # uniform negative map: absolute mass spreads with the area, no positive mass
    f = mass_fractions(a, {"lesion": m}).set_index("image")
    assert f.loc[0, "fraction"] == 1.0
    assert f.loc[1, "fraction"] == pytest.approx(4 / 16)
    pos = mass_fractions(a, {"lesion": m}, sign="positive").set_index("image")
    assert pos.loc[0, "fraction"] == 1.0
    assert np.isnan(pos.loc[1, "fraction"]) and pos.loc[1, "reason"].startswith("zero total relevance")
    # torch input and (N, H, W) maps give the same numbers
    t = mass_fractions(torch.from_numpy(a[:, 0]), {"lesion": torch.from_numpy(m)})
    np.testing.assert_array_equal(t["fraction"].to_numpy(), f["fraction"].to_numpy())



def test_mass_fractions_zero_map_and_bad_input():
    m = np.ones((1, 1, 3, 3), bool)
    f = mass_fractions(np.zeros((1, 1, 3, 3)), {"all": m})
    assert np.isnan(f["fraction"].iloc[0]) and "zero total" in f["reason"].iloc[0]
    with pytest.raises(ValueError, match="finite"):
        mass_fractions(np.full((1, 1, 3, 3), np.nan), {"all": m})
    with pytest.raises(ValueError, match="must have shape"):
        mass_fractions(np.zeros((1, 1, 3, 3)), {"all": np.ones((1, 1, 2, 2), bool)})
    with pytest.raises(ValueError, match="binary"):
        mass_fractions(np.ones((1, 1, 3, 3)), {"all": np.full((1, 1, 3, 3), 0.5)})
    with pytest.raises(ValueError, match="Did you mean 'absolute'"):
        mass_fractions(np.ones((1, 1, 3, 3)), {"all": m}, sign="absolut")
    with pytest.raises(ValueError, match="at least one mask"):
        mass_fractions(np.ones((1, 1, 3, 3)), {})
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        mass_fractions(np.ones((3, 3)), {"all": m})


# --------------------------------------------------------------------------- mass fractions
def _naive_fractions(a, mask, sign):
    """Per-pixel loops: sum of |a| (or a+) inside the mask over the total, NaN for 0/0 or an empty mask."""
    n, c, h, w = a.shape
    out = []
    for i in range(n):
        inside = total = 0.0
        for y in range(h):
            for x in range(w):
                v = sum(a[i, ch, y, x] for ch in range(c))
                v = abs(v) if sign == "absolute" else max(v, 0.0)
                total += v
                if mask[i, 0, y, x]:
                    inside += v
        out.append(inside / total if total > 0 and mask[i].any() else np.nan)
    return np.array(out)

"""Model-free baseline maps, each against its definition (scipy.ndimage or a closed form)."""
import numpy as np
import pytest
import torch
from scipy import ndimage

from xaikit.explain import MODEL_FREE_MAPS, autocorrelation_length, model_free_map
from xaikit.metrics import relevance_rank_accuracy


@pytest.fixture
def batch():
    rng = np.random.default_rng(0)
    x = torch.from_numpy(ndimage.gaussian_filter(rng.random((3, 1, 20, 24)), sigma=(0, 0, 1.5, 1.5)))
    organ = torch.zeros(3, 1, 20, 24, dtype=torch.bool)
    organ[:, :, 4:16, 3:12] = True
    evidence = torch.zeros_like(organ)
    evidence[:, :, 6:9, 5:8] = True
    return x, organ, evidence


def test_edge_and_intensity_maps_equal_scipy_ndimage(batch):
    x, _, _ = batch
    rgb = torch.cat([x, 2 * x, 0 * x], dim=1)  # channel mean = x
    for images in (x, rgb):
        sobel = model_free_map("sobel", images)
        laplace = model_free_map("laplace", images)
        assert sobel.shape == (3, 1, 20, 24) and sobel.dtype == torch.float64
        for i in range(3):
            im = x[i, 0].numpy()
            assert sobel[i, 0].numpy() == pytest.approx(ndimage.generic_gradient_magnitude(im, ndimage.sobel),
                                                        rel=1e-12, abs=1e-15)
            assert laplace[i, 0].numpy() == pytest.approx(np.abs(ndimage.laplace(im)), rel=1e-12, abs=1e-15)
        assert model_free_map("intensity", images).numpy() == pytest.approx(x.numpy(), rel=1e-12)


def test_laplace_and_sobel_on_analytic_images():
    yy, xx = np.mgrid[:9, :9].astype(float)
    quad = torch.from_numpy(xx ** 2 + yy ** 2)[None, None]
    assert model_free_map("laplace", quad)[0, 0, 1:-1, 1:-1].eq(4.0).all()  # the discrete Laplacian of x^2 + y^2
    ramp = torch.from_numpy(3.0 * xx)[None, None]
    # a ramp of slope 3: central difference 2 * 3, smoothed by [1, 2, 1] (sum 4) across, so 24 inside
    assert model_free_map("sobel", ramp)[0, 0, 1:-1, 1:-1].eq(24.0).all()


def test_mask_maps_and_the_evidence_ceiling(batch):
    x, organ, evidence = batch
    assert model_free_map("organ", x, organ_masks=organ).eq(organ.double()).all()
    ev = model_free_map("evidence", x, evidence_masks=evidence)
    assert ev.eq(evidence.double()).all()
    assert relevance_rank_accuracy(ev, evidence).tolist() == [1.0] * 3  # nothing can beat it
    r = model_free_map("random_in_organ", x, organ_masks=organ, seed=4)
    assert r[~organ].eq(0).all() and (r[organ] > 0).all() and (r[organ] <= 1).all()
    assert r.eq(model_free_map("random_in_organ", x, organ_masks=organ, seed=4)).all()
    assert not r.eq(model_free_map("random_in_organ", x, organ_masks=organ, seed=5)).all()


def test_random_map_is_standard_normal_and_seeded(batch):
    x, _, _ = batch
    r = model_free_map("random", x, seed=1).numpy().ravel()
    n = r.size  # 1440 draws: mean within 4 SE (1 / sqrt(n)), SD within 4 SE (1 / sqrt(2 (n - 1)))
    assert abs(r.mean()) < 4 / np.sqrt(n) and abs(r.std(ddof=1) - 1) < 4 / np.sqrt(2 * (n - 1))
    assert np.array_equal(r, np.random.default_rng(1).standard_normal((3, 20, 24)).ravel())


def test_centre_prior_is_a_gaussian_of_a_quarter_side():
    c = model_free_map("centre", torch.zeros(2, 1, 21, 41))[0, 0].numpy()
    s = 0.25 * 21
    assert c[10, 20] == 1.0 and np.unravel_index(c.argmax(), c.shape) == (10, 20)
    assert c[10, 20 + 5] == pytest.approx(np.exp(-25 / (2 * s * s)), rel=1e-12)


def test_autocorrelation_length_is_two_sigma_for_smoothed_noise():
    rng = np.random.default_rng(2)
    sigma = 3.0
    maps = ndimage.gaussian_filter(rng.standard_normal((16, 1, 64, 64)), sigma=(0, 0, sigma, sigma))
    length = autocorrelation_length(maps)
    # rho(k) = exp(-k^2 / (4 sigma^2)) falls to 1/e at k = 2 sigma = 6. The estimate from 16 maps of 64^2
    # pixels has about 16 * 64^2 / (4 pi sigma^2) = 580 independent pixels, so rho has SE ~ 0.04; the
    # slope of rho at k = 6 is -0.12 per pixel, so L has SE ~ 0.35 px per pooled estimate, ~1.4 px per map.
    assert np.median(length) == pytest.approx(2 * sigma, abs=4 * 0.35)
    assert (np.abs(length - 2 * sigma) < 4 * 1.4).all()
    white = autocorrelation_length(rng.standard_normal((4, 32, 32)))
    assert (white < 1).all()  # rho(1) ~ 0: interpolated below one pixel
    flat = autocorrelation_length(np.ones((1, 8, 8)))
    assert np.isnan(flat).all()


def test_smoothed_random_matches_the_reference_maps_autocorrelation(batch):
    rng = np.random.default_rng(3)
    reference = ndimage.gaussian_filter(rng.standard_normal((8, 1, 48, 48)), sigma=(0, 0, 2.0, 2.0))
    images = torch.zeros(8, 1, 48, 48)
    smooth = model_free_map("smoothed_random", images, reference_maps=reference, seed=0)
    target = np.median(autocorrelation_length(reference))
    assert np.median(autocorrelation_length(smooth)) == pytest.approx(target, abs=4 * 0.35)
    plain = model_free_map("random", images, seed=0)
    assert np.median(autocorrelation_length(plain)) < 1 < target  # the smoothing is what matches


@pytest.mark.parametrize("name", sorted(MODEL_FREE_MAPS))
def test_every_baseline_contract(name, batch):
    x, organ, evidence = batch
    reference = np.random.default_rng(0).standard_normal((2, 1, 20, 24))
    kwargs = dict(organ_masks=organ, evidence_masks=evidence, reference_maps=ndimage.gaussian_filter(
        reference, sigma=(0, 0, 1, 1)))
    before = x.clone()
    a = model_free_map(name, x, seed=3, **kwargs)
    assert a.shape == (3, 1, 20, 24) and a.dtype == torch.float64 and torch.isfinite(a).all()
    assert a.eq(model_free_map(name, x, seed=3, **kwargs)).all() and x.eq(before).all()


def test_model_free_map_rejects_bad_input(batch):
    x, organ, _ = batch
    with pytest.raises(ValueError, match="name of model_free_map must be one of .* Did you mean 'sobel'"):
        model_free_map("sobell", x)
    with pytest.raises(ValueError, match="organ_masks of model_free_map is required"):
        model_free_map("organ", x)
    with pytest.raises(ValueError, match="reference_maps of model_free_map is required"):
        model_free_map("smoothed_random", x)
    with pytest.raises(ValueError, match=r"organ_masks of model_free_map must have shape \(3, 1, 20, 24\)"):
        model_free_map("organ", x, organ_masks=organ[:2])
    with pytest.raises(ValueError, match="images of model_free_map must be finite"):
        model_free_map("sobel", torch.full((1, 1, 4, 4), float("nan")))

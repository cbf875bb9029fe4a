"""Each model-free baseline of the atlas against its definition (xaikit.explain.MODEL_FREE_MAPS)."""
import numpy as np
import pytest
import torch
from scipy import ndimage

from xaikit.explain import MODEL_FREE_MAPS, autocorrelation_length, model_free_map
from xaikit.metrics import relevance_rank_accuracy


def test_random_is_the_seeded_standard_normal_and_deterministic():
    x = torch.zeros(3, 1, 40, 40)
    a = model_free_map("random", x, seed=7)
    expected = np.random.default_rng(7).standard_normal((3, 40, 40))
    np.testing.assert_array_equal(a[:, 0].numpy(), expected)
    assert torch.equal(a, model_free_map("random", x, seed=7))
    assert not torch.equal(a, model_free_map("random", x, seed=8))


def test_smoothed_random_matches_the_reference_autocorrelation_length():
    rng = np.random.default_rng(0)
    reference = ndimage.gaussian_filter(rng.normal(size=(6, 1, 96, 96)), sigma=(0, 0, 3, 3))
    target = float(np.median(autocorrelation_length(reference)))  # about 2 sigma = 6 px
    out = model_free_map("smoothed_random", torch.zeros(6, 1, 96, 96), reference_maps=reference, seed=1)
    got = float(np.median(autocorrelation_length(out)))
    # the estimate of one 96 px map scatters by about a pixel; the median of six by well under two
    assert abs(got - target) < 2.0 and abs(target - 6.0) < 1.0


def test_sobel_of_a_unit_step_is_four_on_both_sides_of_the_edge():
    x = torch.zeros(1, 1, 9, 9)
    x[..., 5:] = 1.0
    a = model_free_map("sobel", x)[0, 0]
    # a [1, 2, 1] smoothing times a [-1, 0, 1] difference: 1 + 2 + 1 = 4 at the two columns beside the step
    np.testing.assert_allclose(a[:, 4:6].numpy(), 4.0)
    np.testing.assert_allclose(a[:, :3].numpy(), 0.0)
    np.testing.assert_allclose(a[:, 7:].numpy(), 0.0)


def test_laplace_of_a_quadratic_is_its_constant_second_derivative():
    yy, xx = np.mgrid[:12, :12].astype(np.float64)
    img = 0.5 * (xx ** 2 + 3 * yy ** 2)  # d2/dx2 + d2/dy2 = 1 + 3, exact for the 5-point stencil
    a = model_free_map("laplace", img[None, None])[0, 0].numpy()
    np.testing.assert_allclose(a[1:-1, 1:-1], 4.0)


def test_intensity_is_the_channel_mean_and_organ_evidence_are_the_masks():
    x = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    np.testing.assert_allclose(model_free_map("intensity", x)[:, 0].numpy(), x.double().mean(1).numpy())
    m = np.zeros((2, 1, 8, 8), bool)
    m[:, :, 2:5, 3:6] = True
    np.testing.assert_array_equal(model_free_map("organ", x, organ_masks=m).numpy(), m.astype(float))
    ev = model_free_map("evidence", x, evidence_masks=m)
    np.testing.assert_array_equal(ev.numpy(), m.astype(float))
    np.testing.assert_allclose(relevance_rank_accuracy(ev, torch.as_tensor(m)).numpy(), 1.0)  # the ceiling


def test_random_in_organ_is_zero_outside_and_in_0_1_inside():
    m = np.zeros((4, 1, 16, 16), bool)
    m[:, :, 4:12, 2:9] = True
    a = model_free_map("random_in_organ", torch.zeros(4, 1, 16, 16), organ_masks=m, seed=3).numpy()
    assert (a[~m] == 0).all() and (a[m] > 0).all() and (a[m] <= 1).all()


def test_centre_prior_peaks_at_the_centre_with_a_quarter_side_sigma():
    a = model_free_map("centre", torch.zeros(1, 1, 33, 33))[0, 0].numpy()
    assert np.unravel_index(a.argmax(), a.shape) == (16, 16) and a[16, 16] == pytest.approx(1.0)
    sigma = 33 / 4
    assert a[16, 16 + 8] == pytest.approx(np.exp(-(8 ** 2) / (2 * sigma ** 2)))


@pytest.mark.parametrize("name, needs", [("organ", "organ_masks"), ("random_in_organ", "organ_masks"),
                                         ("evidence", "evidence_masks"), ("smoothed_random", "reference_maps")])
def test_a_baseline_without_its_input_is_refused(name, needs):
    assert name in MODEL_FREE_MAPS
    with pytest.raises(ValueError, match=needs):
        model_free_map(name, torch.zeros(1, 1, 8, 8))


def test_the_study_offers_exactly_the_registered_baselines():
    from xaikit.studies.methods_atlas.spec import ATLAS_BASELINES

    assert set(ATLAS_BASELINES) == set(MODEL_FREE_MAPS)

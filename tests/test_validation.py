import pytest

from xaikit._validation import check_float, check_int, check_option, did_you_mean


def test_check_option_suggests_closest_choice():
    with pytest.raises(ValueError, match=r"arch must be one of .*got 'resnet43'.*Did you mean 'resnet34'\?"):
        check_option("arch", "resnet43", ["resnet18", "resnet34", "resnet50"])
    assert check_option("arch", "resnet50", ["resnet18", "resnet50"]) == "resnet50"


def test_did_you_mean_is_empty_for_unrelated_names():
    assert did_you_mean("zzzz", ["resnet18", "densenet121"]) == ""


@pytest.mark.parametrize("value", [0, -3, 2.5, True, "4", None])
def test_check_int_rejects_bad_values_naming_parameter(value):
    with pytest.raises(ValueError, match=r"n_steps of integrated_gradients must be an int >= 1"):
        check_int("n_steps", value, min_value=1, context="integrated_gradients")


def test_check_float_range_and_nan():
    assert check_float("lr", 1, min_value=0.0) == 1.0
    with pytest.raises(ValueError, match=r"lr must be a number in \[0.0, 1.0\], got nan"):
        check_float("lr", float("nan"), min_value=0.0, max_value=1.0)
    with pytest.raises(ValueError, match="got 2"):
        check_float("lr", 2, min_value=0.0, max_value=1.0)

"""Issue 19 item 5: a weights file that is not a state_dict is a ``ValueError`` naming the file and the fault,
and the model is left untouched."""
import pytest
import torch
from torch import nn

from xaikit.models import load_weights


def _write(path, obj):
    if obj is None:
        path.write_bytes(b"")
    else:
        torch.save(obj, path)
    return path


GOOD = nn.Linear(3, 2).state_dict()
CASES = {
    "empty": (None, "empty"),
    "list_values": ({k: v.tolist() for k, v in GOOD.items()}, "tensors"),
    "int_keys": ({i: v for i, v in enumerate(GOOD.values())}, "str keys"),
    "not_a_dict": ([1, 2, 3], "state_dict"),
    "truncated": ("truncate", "cannot be read"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_weights_file_is_a_value_error_naming_file_and_fault(tmp_path, case):
    obj, fault = CASES[case]
    path = tmp_path / f"{case}.pt"
    if obj == "truncate":
        torch.save(GOOD, path)
        path.write_bytes(path.read_bytes()[:40])
    else:
        _write(path, obj)
    model = nn.Linear(3, 2)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError) as info:
        load_weights(model, path)
    msg = str(info.value)
    assert str(path) in msg and fault in msg and "\n" not in msg
    for k, v in model.state_dict().items():  # nothing was half-loaded
        assert torch.equal(v, before[k])


def test_good_file_still_loads(tmp_path):
    path = _write(tmp_path / "ok.pt", GOOD)
    model = load_weights(nn.Linear(3, 2), path)
    for k, v in model.state_dict().items():
        assert torch.equal(v, GOOD[k])

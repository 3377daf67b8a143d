"""rubric.encode.encode and judge.compare.compare_tensors."""

from __future__ import annotations

import json
import math

import pytest
import torch

from tensorgrade.judge.compare import compare_tensors, values_of
from tensorgrade.rubric.encode import encode
from tensorgrade.spec.models import Tolerance

TOL = Tolerance(rtol=1e-5, atol=1e-5)


# -- encode ---------------------------------------------------------------------------


def test_encode_tensor_fields():
    t = torch.tensor([[1.5, -2.0], [0.25, 4.0]], dtype=torch.float64, requires_grad=True)
    enc = encode(t)
    assert enc["type"] == "tensor"
    assert enc["pytype"] == "Tensor"
    assert enc["dtype"] == "float64"
    assert enc["shape"] == [2, 2]
    assert enc["requires_grad"] is True
    assert enc["data"] == [1.5, -2.0, 0.25, 4.0]


def test_encode_int_and_bool_and_scalar_tensors():
    assert encode(torch.tensor([1, 2], dtype=torch.int64))["data"] == [1, 2]
    assert encode(torch.tensor([1, 2], dtype=torch.int64))["dtype"] == "int64"
    b = encode(torch.tensor([True, False]))
    assert b["dtype"] == "bool" and b["data"] == [True, False]
    s = encode(torch.tensor(2.5))
    assert s["shape"] == [] and s["data"] == [2.5]


def test_encode_non_finite_values_as_strings_and_json_safe():
    enc = encode(torch.tensor([math.nan, math.inf, -math.inf, 1.0]))
    assert enc["data"] == ["nan", "inf", "-inf", 1.0]
    text = json.dumps(enc, allow_nan=False)  # strict JSON: no NaN/Infinity literals
    assert json.loads(text) == enc
    back = values_of(enc)
    assert math.isnan(back[0]) and back[1] == math.inf and back[2] == -math.inf and back[3] == 1.0


def test_encode_none():
    assert encode(None) == {"type": "none"}


@pytest.mark.parametrize("value, pytype", [(3, "int"), (2.5, "float"), (True, "bool")])
def test_encode_numbers(value, pytype):
    assert encode(value) == {"type": "number", "pytype": pytype, "value": value}


def test_encode_non_finite_number():
    assert encode(math.nan)["value"] == "nan"
    assert encode(-math.inf)["value"] == "-inf"


def test_encode_sequences_nest():
    enc = encode([1, (torch.tensor([2.0]), None)])
    assert enc["type"] == "sequence" and enc["pytype"] == "list" and enc["length"] == 2
    inner = enc["items"][1]
    assert inner["pytype"] == "tuple" and inner["length"] == 2
    assert inner["items"][0]["type"] == "tensor" and inner["items"][0]["data"] == [2.0]
    assert inner["items"][1] == {"type": "none"}


def test_encode_long_sequence_keeps_length_but_few_items():
    enc = encode(list(range(100)))
    assert enc["length"] == 100
    assert 0 < len(enc["items"]) < 100


def test_encode_other_object_by_type_and_repr():
    enc = encode({"a": 1})
    assert enc == {"type": "other", "pytype": "dict", "repr": "{'a': 1}"}


def test_encode_long_repr_is_cut():
    enc = encode("x" * 10_000)
    assert enc["type"] == "other" and enc["pytype"] == "str"
    assert len(enc["repr"]) <= 200 and enc["repr"].endswith("...")


def test_encode_hostile_repr_does_not_raise():
    class Rude:
        def __repr__(self):
            raise ValueError("no repr for you")

    enc = encode(Rude())
    assert enc["type"] == "other" and enc["pytype"] == "Rude"
    assert "ValueError" in enc["repr"]
    json.dumps(enc)


def test_encode_tensor_subclass_records_its_type():
    class Sneaky(torch.Tensor):
        pass

    enc = encode(torch.tensor([1.0]).as_subclass(Sneaky))
    assert enc["type"] == "tensor" and enc["pytype"] == "Sneaky" and enc["data"] == [1.0]


def test_encode_hostile_class_attribute_does_not_raise():
    class Masked:
        @property
        def __class__(self):
            raise RuntimeError("hostile __class__")

    enc = encode(Masked())
    assert enc["type"] == "other"


# -- compare_tensors --------------------------------------------------------------------


def E(values, dtype=torch.float32):
    return encode(torch.tensor(values, dtype=dtype))


def test_identical_tensors_match():
    assert compare_tensors(E([1.0, 2.0, 3.0]), E([1.0, 2.0, 3.0]), TOL) is None


def test_dtype_mismatch_names_both_dtypes():
    m = compare_tensors(E([1.0, 2.0]), E([1.0, 2.0], torch.float64), TOL)
    assert m is not None
    assert "float32" in m.problem and "float64" in m.problem
    assert m.problem.index("float32") < m.problem.index("float64")  # expected first, observed second


def test_shape_mismatch():
    m = compare_tensors(E([1.0, 2.0, 3.0]), E([[1.0, 2.0, 3.0]]), TOL)
    assert m is not None
    assert "(3,)" in m.problem and "(1, 3)" in m.problem


@pytest.mark.parametrize("observed, shown", [(None, "None"), ([1.0, 2.0, 3.0], "list")])
def test_not_a_tensor(observed, shown):
    m = compare_tensors(E([1.0, 2.0, 3.0]), encode(observed), TOL)
    assert m is not None
    assert m.problem == "expected a tensor"
    assert shown in m.observed


def test_subclass_is_rejected():
    class Sneaky(torch.Tensor):
        pass

    m = compare_tensors(E([1.0, 2.0]), encode(torch.tensor([1.0, 2.0]).as_subclass(Sneaky)), TOL)
    assert m is not None
    assert "Sneaky" in m.problem


def test_parameter_is_accepted():
    obs = encode(torch.nn.Parameter(torch.tensor([1.0, 2.0])))
    assert compare_tensors(E([1.0, 2.0]), obs, TOL) is None


def test_subclass_named_tensor_is_rejected():
    Tensor = type("Tensor", (torch.Tensor,), {})
    m = compare_tensors(E([1.0, 2.0]), encode(torch.tensor([1.0, 2.0]).as_subclass(Tensor)), TOL)
    assert m is not None


def test_value_mismatch_explained_like_assert_close():
    m = compare_tensors(E([1.0, 2.0, 3.0]), E([1.0, 2.5, 3.0]), TOL)
    assert m is not None
    assert m.problem == "values differ"
    assert m.details == (
        "Mismatched elements: 1 / 3 (33.3%)",
        "Greatest absolute difference: 0.5 at index (1,) (up to 1e-05 allowed)",
        "Greatest relative difference: 0.25 at index (1,) (up to 1e-05 allowed)",
    )


def test_value_mismatch_index_in_2d_and_largest_difference_chosen():
    exp = E([[1.0, 2.0], [4.0, 8.0]])
    obs = E([[1.0, 2.1], [4.0, 9.0]])
    m = compare_tensors(exp, obs, TOL)
    assert m.details[0] == "Mismatched elements: 2 / 4 (50.0%)"
    assert m.details[1].startswith("Greatest absolute difference: 1 at index (1, 1)")
    # relative differences: 0.1/2 = 0.05 at (0, 1), 1/8 = 0.125 at (1, 1)
    assert m.details[2].startswith("Greatest relative difference: 0.125 at index (1, 1)")


def test_details_agree_with_torch_testing_assert_close():
    exp, obs = torch.tensor([1.0, 2.0, 3.0, 4.0]), torch.tensor([1.0, 2.2, 3.0, 3.0])
    m = compare_tensors(encode(exp), encode(obs), TOL)
    with pytest.raises(AssertionError) as info:
        torch.testing.assert_close(obs, exp, rtol=TOL.rtol, atol=TOL.atol)
    torch_lines = str(info.value)
    assert m.details[0] in torch_lines
    # torch prints the same index and values (it may format the number with more digits)
    assert "at index (3,)" in m.details[1] and "at index (3,)" in torch_lines


def test_within_tolerance_passes():
    assert compare_tensors(E([1.0, 2.0]), E([1.0 + 5e-6, 2.0 - 5e-6]), TOL) is None
    loose = Tolerance(rtol=0.0, atol=0.1)
    assert compare_tensors(E([1.0, 2.0]), E([1.05, 1.95]), loose) is None
    assert compare_tensors(E([1.0, 2.0]), E([1.2, 2.0]), loose) is not None


def test_tolerance_is_relative_to_expected():
    tol = Tolerance(rtol=0.01, atol=0.0)
    assert compare_tensors(E([1000.0]), E([1009.0]), tol) is None
    assert compare_tensors(E([1.0]), E([1.02]), tol) is not None


def test_integer_tensors_compare_exactly():
    exp, obs = E([1, 2], torch.int64), E([1, 3], torch.int64)
    assert compare_tensors(exp, obs, Tolerance(rtol=1.0, atol=5.0)) is not None
    assert compare_tensors(exp, E([1, 2], torch.int64), TOL) is None


def test_nan_equals_nan():
    assert compare_tensors(E([math.nan, 1.0]), E([math.nan, 1.0]), TOL) is None


def test_nan_against_number_is_a_mismatch():
    m = compare_tensors(E([math.nan, 1.0]), E([0.0, 1.0]), TOL)
    assert m is not None and m.details[0] == "Mismatched elements: 1 / 2 (50.0%)"


def test_relative_difference_against_zero_reads_inf():
    m = compare_tensors(E([0.0, 1.0]), E([1.0, 1.0]), TOL)
    assert m.details[2] == "Greatest relative difference: inf at index (0,) (up to 1e-05 allowed)"


def test_small_tensors_are_printed_whole():
    m = compare_tensors(E([1.0, 2.0, 3.0]), E([1.0, 2.5, 3.0]), TOL)
    assert "[1, 2, 3]" in m.expected and "float32" in m.expected and "(3,)" in m.expected
    assert "[1, 2.5, 3]" in m.observed


def test_small_matrix_printed_nested():
    m = compare_tensors(E([[1.0, 2.0], [3.0, 4.0]]), E([[1.0, 2.0], [3.0, 5.0]]), TOL)
    assert "[[1, 2], [3, 4]]" in m.expected
    assert "[[1, 2], [3, 5]]" in m.observed


def test_large_tensors_are_summarised():
    exp = torch.arange(100, dtype=torch.float32)
    obs = exp.clone()
    obs[7] = -1
    m = compare_tensors(encode(exp), encode(obs), TOL)
    assert "99" not in m.expected  # not printed element by element
    assert "(100,)" in m.expected
    assert m.details[0] == "Mismatched elements: 1 / 100 (1.0%)"
    assert "at index (7,)" in m.details[1]

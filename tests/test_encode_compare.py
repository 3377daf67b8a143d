"""rubric.encode.encode and judge.compare: one pair per kind of value (tensor, sequence, number, exact)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from tensorgrade.judge.compare import Malformed, compare, compare_tensors, values_of
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


def test_encode_long_sequence_keeps_length_and_a_bounded_number_of_items():
    enc = encode(list(range(100)))
    assert enc["length"] == 100 and [i["value"] for i in enc["items"]] == list(range(100))
    long = encode([0.5] * 5000)
    assert long["length"] == 5000 and len(long["items"]) == 1000  # the bound; lengths are still compared


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


def test_a_large_mismatch_shows_the_element_that_differs_most_so_the_two_never_read_alike():
    exp = torch.arange(100, dtype=torch.float32)
    obs = exp.clone()
    obs[7] = 7.5
    m = compare(encode(exp), encode(obs), TOL)
    assert m.expected != m.observed
    assert m.expected.endswith("holding 7 at index (7,)") and m.observed.endswith("holding 7.5 at index (7,)")


def test_values_too_close_to_print_apart_get_more_digits():
    m = compare(E([1.0, 2.0], torch.float64), E([1.0, 2.000001], torch.float64), Tolerance(rtol=0.0, atol=0.0))
    assert m is not None and m.expected != m.observed
    assert "2.000001" in m.observed and "2.000001" not in m.expected


def test_subclass_reads_differently_from_a_plain_tensor():
    class Sneaky(torch.Tensor):
        pass

    m = compare(E([1.0, 2.0]), encode(torch.tensor([1.0, 2.0]).as_subclass(Sneaky)), TOL)
    assert m.expected != m.observed and "Sneaky" in m.observed


# -- dtype: judged unless the check waives it --------------------------------------------------


def test_waived_dtype_compares_a_float32_result_by_its_values():
    exp = E([0.1, 1.0 / 3.0], torch.float64)
    obs = E([0.1, 1.0 / 3.0], torch.float32)  # float32 rounding: about 3e-8 relative
    tight = Tolerance(rtol=1e-7, atol=1e-9)
    assert compare(exp, obs, tight) is not None  # by default the dtype is part of the answer
    assert compare(exp, obs, tight, check_dtype=False) is None


def test_waived_dtype_still_fails_on_values_and_says_the_dtype_differs():
    m = compare(E([1.0, 2.0], torch.float64), E([1.0, 2.5]), TOL, check_dtype=False)
    assert m.problem == "values differ"
    assert m.details[-1] == "The dtype differs too: expected float64, observed float32"


def test_waived_dtype_still_needs_the_shape():
    m = compare(E([1.0, 2.0], torch.float64), E([[1.0, 2.0]]), TOL, check_dtype=False)
    assert m.problem == "expected shape (2,), observed (1, 2)"


# -- sequences: item by item ---------------------------------------------------------------------


def test_tuple_of_zeros_fails_naming_the_first_wrong_item():
    a, b = torch.tensor([1.0, -2.0]), torch.tensor([0.5, 0.25, 4.0])
    m = compare(encode((a, b)), encode((torch.zeros(2), torch.zeros(3))), TOL)
    assert m is not None
    assert m.problem == "item [0]: values differ"
    assert "[1, -2]" in m.expected and "[0, 0]" in m.observed


def test_sequence_names_the_index_of_a_later_item():
    a, b = torch.tensor([1.0, -2.0]), torch.tensor([0.5, 0.25, 4.0])
    m = compare(encode((a, b)), encode((a.clone(), torch.tensor([0.5, 0.25, 4.5]))), TOL)
    assert m.problem == "item [1]: values differ"
    assert m.details[0] == "Mismatched elements: 1 / 3 (33.3%)"


def test_a_difference_after_the_sixteenth_item_is_seen():
    expected = [float(i) for i in range(40)]
    observed = expected[:20] + [99.0] + expected[21:]
    m = compare(encode(expected), encode(observed), TOL)
    assert m is not None and m.problem == "item [20]: the numbers are not close"


def test_nested_sequences_name_the_whole_path():
    m = compare(encode([(1.0, 2.0), (3.0, 4.0)]), encode([(1.0, 2.0), (3.0, 5.0)]), TOL)
    assert m.problem == "item [1][1]: the numbers are not close"


def test_sequence_length_and_kind():
    t = torch.tensor([1.0])
    assert compare(encode((t, t)), encode((t,)), TOL).problem == "expected 2 items, observed 1"
    m = compare(encode((t, t)), encode(t), TOL)
    assert m.problem == "expected a tuple of 2 items" and "tensor" in m.observed


def test_a_list_holding_the_same_items_as_a_tuple_matches():
    t = torch.tensor([1.0, 2.0])
    assert compare(encode((t, 3)), encode([t.clone(), 3]), TOL) is None


# -- numbers: the check's tolerance ---------------------------------------------------------------------


def test_float_off_by_1e_12_passes():
    assert compare(encode(0.560625), encode(0.560625 + 1e-12), TOL) is None


def test_float_off_by_more_than_the_tolerance_fails_and_both_read_differently():
    m = compare(encode(0.560625), encode(0.56065), TOL)  # 2.5e-5 off; allowed 1e-5 + 1e-5 * 0.56 = 1.56e-5
    assert m is not None and m.problem == "the numbers are not close"
    assert m.expected == "the Python float 0.560625"
    assert m.observed == "the Python float 0.56065"
    assert m.details == ("Absolute difference: 2.5e-05 (up to 1e-05 allowed)",  # 2.5e-5 / 0.560625 = 4.4593e-5
                         "Relative difference: 4.45931e-05 (up to 1e-05 allowed)")


def test_float_just_inside_the_tolerance_passes():
    assert compare(encode(0.560625), encode(0.5606375), TOL) is None  # 1.25e-5 off; 1.56e-5 allowed


def test_floats_that_read_alike_at_six_digits_are_printed_with_more():
    m = compare(encode(0.560625), encode(0.5606250001), Tolerance(rtol=0.0, atol=0.0))
    assert m.expected != m.observed
    assert m.observed.endswith("0.5606250001")


@pytest.mark.parametrize("close", [np.float64(0.560625 + 1e-9), torch.tensor(0.560625 + 1e-9, dtype=torch.float64),
                                   torch.tensor(0.560625), np.float32(0.560625)])
def test_numpy_scalars_and_0_dim_tensors_stand_for_a_float(close):
    assert compare(encode(0.560625), encode(close), TOL) is None


@pytest.mark.parametrize("far, shown", [(np.float64(0.57), "the numpy.float64 0.57"),
                                        (torch.tensor(0.57, dtype=torch.float64), "tensor(0.57) (float64)")])
def test_numpy_scalars_and_0_dim_tensors_fail_when_not_close(far, shown):
    m = compare(encode(0.560625), encode(far), TOL)
    assert m.problem == "the numbers are not close"
    assert m.observed == shown


@pytest.mark.parametrize("observed", [torch.tensor([0.560625]), "0.560625", None, True, [0.560625]])
def test_what_is_not_a_number_where_a_number_is_asked(observed):
    m = compare(encode(0.560625), encode(observed), TOL)
    assert m is not None and m.problem == "expected a number"


def test_ints_compare_exactly_whatever_the_tolerance():
    loose = Tolerance(rtol=0.5, atol=2.0)
    assert compare(encode(3), encode(3), loose) is None
    assert compare(encode(3), encode(np.int64(3)), loose) is None
    assert compare(encode(3), encode(4), loose).problem == "the numbers differ"


def test_nan_matches_nan_and_infinities_only_themselves():
    assert compare(encode(math.nan), encode(np.float64("nan")), TOL) is None
    assert compare(encode(math.inf), encode(math.inf), TOL) is None
    assert compare(encode(math.inf), encode(1e300), TOL) is not None
    assert compare(encode(1.0), encode(math.nan), TOL) is not None


# -- None, bools, strings: exact ---------------------------------------------------------------------------


def test_bools_are_exact_and_no_number_stands_for_one():
    assert compare(encode(True), encode(True), TOL) is None
    assert compare(encode(True), encode(np.bool_(True)), TOL) is None
    assert compare(encode(True), encode(False), TOL).problem == "a different value"
    m = compare(encode(True), encode(1), TOL)
    assert m.problem == "expected a bool" and m.observed == "the Python int 1"


def test_none_and_strings_are_exact():
    assert compare(encode(None), encode(None), TOL) is None
    assert compare(encode(None), encode(0.0), TOL).problem == "expected None"
    assert compare(encode("sum"), encode("sum"), TOL) is None
    m = compare(encode("sum"), encode("mean"), TOL)
    assert m.problem == "a different value" and (m.expected, m.observed) == ("a str: 'sum'", "a str: 'mean'")


def test_compare_tensors_is_the_same_comparator():
    assert compare_tensors is compare


# -- encoding numpy scalars; malformed encodings ---------------------------------------------------------


@pytest.mark.parametrize("value, pytype, plain", [(np.float64(0.25), "numpy.float64", 0.25),
                                                  (np.float32(1.5), "numpy.float32", 1.5),
                                                  (np.int64(7), "numpy.int64", 7),
                                                  (np.float64("inf"), "numpy.float64", "inf")])
def test_encode_numpy_scalars_as_numbers_in_strict_json(value, pytype, plain):
    enc = encode(value)
    assert enc == {"type": "number", "pytype": pytype, "value": plain}
    assert json.loads(json.dumps(enc, allow_nan=False)) == enc


def test_encode_a_numpy_subclass_reads_numpy_s_own_value():
    class Liar(np.float64):
        def item(self):
            return 99.0

    assert encode(Liar(0.5))["value"] == 0.5


def test_encode_numpy_array_stays_other():
    assert encode(np.array([1.0]))["type"] == "other"


@pytest.mark.parametrize("observed", [
    {"type": "tensor", "plain": True},  # no dtype or shape
    {"type": "tensor", "plain": True, "dtype": "float32", "shape": [2], "data": [1.0]},  # too few values
    {"type": "tensor", "plain": True, "dtype": "float32", "shape": [1], "data": ["one"]},
    {"type": "number", "pytype": "float", "value": [1.0]},
    {"type": "sequence", "pytype": "tuple"},
    {"type": "wormhole"},
    ["not", "an", "object"],
])
def test_malformed_observed_encodings_raise_instead_of_being_read(observed):
    with pytest.raises(Malformed):
        compare(E([1.0]), observed, TOL)


def test_strings_longer_than_their_repr_are_still_compared_in_full():
    a = "x" * 500 + "sum"
    assert compare(encode(a), encode("x" * 500 + "sum"), TOL) is None
    m = compare(encode(a), encode("x" * 500 + "sun"), TOL)
    assert m is not None and m.problem == "the strings differ from character 502"
    assert m.expected != m.observed and m.expected.endswith("'xxxxxxxxxxxxxxxxxxsum'...")


def test_the_judges_quick_closeness_agrees_with_torch_isclose_on_every_pair():
    import random

    from tensorgrade.judge.compare import all_close

    rng = random.Random(13)
    tolerances = [(1e-5, 1e-8), (1e-4, 1e-6), (0.0, 0.0), (1e-3, 0.0), (0.0, 1e-3)]
    decided = {True: 0, False: 0}
    for _ in range(20000):
        rtol, atol = rng.choice(tolerances)
        e = rng.choice([0.0, 1, -3, rng.uniform(-2, 2), 10.0 ** rng.randint(-12, 12) * rng.choice((-1, 1))])
        step = rng.choice([0.0, rtol, atol, 1e-8, 1e-6, 1e-4]) * rng.uniform(0.5, 1.5) * rng.choice((-1, 1))
        o = rng.choice([e, e + step, e * (1 + step), float(e) + rng.choice((0.0, 1e-300)), int(round(e))])
        quick = all_close([e], [o], rtol, atol)
        slow = bool(torch.isclose(torch.tensor([float(o)], dtype=torch.float64),
                                  torch.tensor([float(e)], dtype=torch.float64), rtol=rtol, atol=atol).all())
        assert quick == slow, (e, o, rtol, atol)
        decided[quick] += 1
    assert min(decided.values()) > 1000  # both verdicts were met often


def test_the_quick_closeness_leaves_to_torch_what_it_does_not_decide():
    from tensorgrade.judge.compare import all_close

    for expected, observed in [([1.0], [True]), (["nan"], ["nan"]), ([{"re": 1, "im": 0}], [{"re": 1, "im": 0}]),
                               ([1.0, 2.0], [1.0]), ([10**400], [10**400]), (["inf"], ["inf"])]:
        assert all_close(expected, observed, 1e-5, 1e-8) is False

"""dispatch/ids.py: slices for IN lists keep every value once, in order, within their size."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dispatch.ids import IN_LIST, batched


@given(st.lists(st.integers(), max_size=2_000), st.integers(min_value=1, max_value=700))
def test_batches_keep_every_value_once_in_order_and_within_their_size(values, size):
    chunks = list(batched(values, size))
    assert [v for chunk in chunks for v in chunk] == values
    assert all(0 < len(chunk) <= size for chunk in chunks)
    assert len(chunks) == -(-len(values) // size)


def test_the_default_size_stays_far_below_either_databases_parameter_limit():
    assert [len(c) for c in batched(list(range(1_201)))] == [IN_LIST, IN_LIST, 201]
    assert IN_LIST * 2 < 32_766

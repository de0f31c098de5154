"""Phone numbers: E.164 normalisation (the chain-wide member identity) and masking."""
from __future__ import annotations

import pytest

from loyalty.kernel.errors import InvalidInput
from loyalty.members.phone import mask_phone, normalize_phone


@pytest.mark.parametrize("raw", [
    "13812345678",
    "138 1234 5678",
    "138-1234-5678",
    " 138 1234-5678 ",
    "(138) 1234.5678",
    "+8613812345678",
    "+86 138 1234 5678",
    "008613812345678",
    "0086 138-1234-5678",
])
def test_chinese_mobile_numbers_normalise_to_e164_with_default_plus86(raw):
    assert normalize_phone(raw) == "+8613812345678"


def test_explicit_foreign_prefix_wins_over_default_country():
    assert normalize_phone("+44 7700 900123") == "+447700900123"
    assert normalize_phone("0044 7700 900123") == "+447700900123"


@pytest.mark.parametrize("raw", ["07700 900123", "7700-900-123"])
def test_other_default_country_drops_trunk_zero(raw):
    assert normalize_phone(raw, "44") == "+447700900123"


def test_other_default_country_keeps_explicit_plus86_mobile_check():
    assert normalize_phone("+86 139 0000 1111", "44") == "+8613900001111"
    with pytest.raises(InvalidInput):
        normalize_phone("+86 21 6888 1234", "44")


@pytest.mark.parametrize("raw", [
    "021-6888-1234",     # Shanghai landline
    "+86 21 6888 1234",  # same, international form
    "12812345678",       # 12x is not a mobile prefix
    "1381234567",        # 10 digits
    "138123456789",      # 12 digits
    "+86 400 820 8820",  # service number
])
def test_non_mobile_plus86_numbers_are_refused(raw):
    with pytest.raises(InvalidInput) as err:
        normalize_phone(raw)
    assert err.value.field == "phone"


@pytest.mark.parametrize("raw", [
    "138abcd5678",
    "phone",
    "+86 138 1234 567x",
    "138_1234_5678",
    "+86+13812345678",
])
def test_letters_and_stray_symbols_are_refused(raw):
    with pytest.raises(InvalidInput) as err:
        normalize_phone(raw)
    assert err.value.field == "phone"


@pytest.mark.parametrize("raw", ["+1234567", "+1 234 567", "+1234567890123456", "0012345678901234567"])
def test_too_short_or_too_long_is_refused(raw):
    with pytest.raises(InvalidInput) as err:
        normalize_phone(raw)
    assert err.value.field == "phone"


@pytest.mark.parametrize("raw", ["", "   ", None])
def test_missing_phone_is_refused(raw):
    with pytest.raises(InvalidInput) as err:
        normalize_phone(raw)
    assert err.value.field == "phone"


def test_error_names_the_field_it_was_given():
    with pytest.raises(InvalidInput) as err:
        normalize_phone("abc", field="contact.phone")
    assert err.value.field == "contact.phone"


def test_shortest_and_longest_accepted_lengths():
    assert normalize_phone("+12345678") == "+12345678"
    assert normalize_phone("+123456789012345") == "+123456789012345"


def test_mask_phone_hides_the_middle_digits():
    assert mask_phone("+8613812345678") == "+86138****5678"
    assert mask_phone("+447700900123") == "+4477****0123"


def test_mask_phone_of_a_short_value_reveals_nothing():
    assert mask_phone("+12345") == "******"

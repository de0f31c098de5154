"""Identifiers: Luhn-checked card numbers, time-ordered member ids, readable referral codes."""
from __future__ import annotations

import re

import pytest

from loyalty.kernel import ids
from loyalty.kernel.ids import is_valid_card_number, luhn_check_digit, new_card_number, new_id, new_referral_code

MEMBER_ID = re.compile(r"^mbr_[0-9A-Z]{26}$")  # the path pattern functions/members.py accepts


def test_luhn_check_digit_of_known_numbers():
    # Well-known test numbers: 79927398713 and the Visa test card 4111 1111 1111 1111.
    assert luhn_check_digit("7992739871") == "3"
    assert luhn_check_digit("411111111111111") == "1"
    assert is_valid_card_number("4111111111111111")
    assert not is_valid_card_number("4111111111111112")


@pytest.mark.parametrize("_", range(50))
def test_card_numbers_are_16_digits_with_prefix_and_valid_check_digit(_):
    card = new_card_number()
    assert len(card) == 16 and card.isdigit()
    assert card.startswith("88")
    assert luhn_check_digit(card[:-1]) == card[-1]
    assert is_valid_card_number(card)


def test_other_prefix_still_gives_16_digits():
    card = new_card_number("7")
    assert len(card) == 16 and card.startswith("7") and is_valid_card_number(card)


@pytest.mark.parametrize("_", range(10))
def test_any_single_mistyped_digit_is_detected(_):
    card = new_card_number()
    for position in range(16):
        for digit in "0123456789":
            if digit == card[position]:
                continue
            typo = card[:position] + digit + card[position + 1:]
            assert not is_valid_card_number(typo), (card, typo)


@pytest.mark.parametrize("value", ["", "88123", "8812345678901234567", "88123456789O1234", "8812 3456 7890 1234"])
def test_malformed_card_numbers_are_invalid(value):
    assert not is_valid_card_number(value)


def test_member_ids_have_the_accepted_shape():
    assert MEMBER_ID.match(new_id("mbr"))


def test_member_ids_sort_by_creation_time(monkeypatch):
    moments = iter([1_700_000_000.000, 1_700_000_000.001, 1_700_000_060.0, 1_800_000_000.0])
    monkeypatch.setattr(ids.time, "time", lambda: next(moments))
    created = [new_id("mbr") for _ in range(4)]
    assert sorted(created) == created
    assert len(set(created)) == 4


def test_ids_in_the_same_millisecond_are_unique(monkeypatch):
    monkeypatch.setattr(ids.time, "time", lambda: 1_700_000_000.0)
    created = {new_id("mbr") for _ in range(2000)}
    assert len(created) == 2000


def test_ids_are_unique():
    assert len({new_id("mbr") for _ in range(5000)}) == 5000


def test_referral_codes_avoid_characters_misread_aloud():
    codes = [new_referral_code() for _ in range(500)]
    for code in codes:
        assert len(code) == 8
        assert re.fullmatch(r"[A-HJ-NP-Z2-9]{8}", code), code
    used = set("".join(codes))
    assert not used & set("01OI")

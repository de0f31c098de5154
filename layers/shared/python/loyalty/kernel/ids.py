"""Identifiers: member ids, member card numbers (Luhn-checked, printable as QR or barcode), referral codes."""
from __future__ import annotations

import secrets
import threading
import time

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_REFERRAL_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: read aloud at a till


_last = [0, 0]  # (ms, random part) of the previous id, to stay ordered within one millisecond
_lock = threading.Lock()


def new_id(prefix: str) -> str:
    """Time-ordered id (48-bit ms timestamp + 80 random bits, Crockford base32), e.g. mbr_01JD...

    Ids made by one process are strictly increasing: within a millisecond the random part counts up."""
    with _lock:
        now = int(time.time() * 1000)
        if now <= _last[0]:
            now, random_part = _last[0], _last[1] + 1
        else:
            random_part = secrets.randbits(79)  # headroom so counting up never overflows 80 bits
        _last[0], _last[1] = now, random_part
    value = (now << 80) | random_part
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return f"{prefix}_{''.join(reversed(chars))}"


def luhn_check_digit(digits: str) -> str:
    total = 0
    for index, char in enumerate(reversed(digits)):
        digit = int(char)
        if index % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def is_valid_card_number(card: str) -> bool:
    return card.isdigit() and len(card) == 16 and luhn_check_digit(card[:-1]) == card[-1]


def new_card_number(prefix: str = "88") -> str:
    """16-digit member card number: chain prefix, random body, Luhn check digit (catches mistyped digits)."""
    body = prefix + "".join(str(secrets.randbelow(10)) for _ in range(13 - len(prefix) + 2))
    return body + luhn_check_digit(body)


def new_referral_code() -> str:
    return "".join(secrets.choice(_REFERRAL_ALPHABET) for _ in range(8))


class RandomIds:
    """The IdGenerator the platform runs with."""

    def new_id(self, prefix: str) -> str:
        return new_id(prefix)

    def new_card_number(self) -> str:
        return new_card_number()

    def new_referral_code(self) -> str:
        return new_referral_code()

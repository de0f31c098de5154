"""Phone numbers normalised to E.164, the chain-wide identity of a member."""
from __future__ import annotations

import re

from loyalty.kernel.errors import InvalidInput

_SEPARATORS = re.compile(r"[\s\-().]")
_DIGITS = re.compile(r"^\d+$")
_CN_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def normalize_phone(raw: str, default_country_code: str = "86", *, field: str = "phone") -> str:
    """Return the E.164 form (+<country><number>) or raise InvalidInput naming the field.

    Numbers without a country prefix get the chain's default country code. Chinese numbers (+86)
    must be mobile numbers, since membership is keyed on a phone that can receive an SMS.
    """
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidInput("phone is required", field=field)
    value = _SEPARATORS.sub("", raw.strip())
    if value.startswith("+"):
        digits = value[1:]
    elif value.startswith("00"):
        digits = value[2:]
    else:
        national = value
        if default_country_code != "86" and national.startswith("0"):
            national = national[1:]  # trunk prefix is dropped in international form
        digits = default_country_code + national
    if not _DIGITS.match(digits):
        raise InvalidInput("phone may contain only digits, spaces, dashes and a leading +", field=field)
    if not 8 <= len(digits) <= 15:
        raise InvalidInput("phone must have 8 to 15 digits including the country code", field=field)
    if digits.startswith("86") and not _CN_MOBILE.match(digits[2:]):
        raise InvalidInput("a +86 phone must be an 11-digit mobile number starting with 13-19", field=field)
    return "+" + digits


def mask_phone(e164: str) -> str:
    """Show a phone to staff without revealing it: +8613812345678 -> +86138****5678."""
    if len(e164) < 8:
        return "*" * len(e164)
    return e164[:-8] + "****" + e164[-4:]

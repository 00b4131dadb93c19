"""Phone numbers: E.164 everywhere, validated with phonenumbers."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers
from django.conf import settings
from django.utils.translation import gettext as _


class InvalidPhone(ValueError):
    pass


def phone_normalize(raw: str, *, region: str | None = None) -> str:
    """Return the E.164 form of ``raw`` or raise :class:`InvalidPhone` with a human reason."""
    return _normalized(raw or "", region or settings.FLUXO_DEFAULT_REGION)


@lru_cache(maxsize=65536)
def _normalized(raw: str, region: str) -> str:
    # Cached: every inbound message and every send parses its number (phonenumbers is slow for that).
    text = raw.strip()
    if not text:
        raise InvalidPhone(_("phone number is empty"))
    # WhatsApp sends wa_id without '+': treat a long run of digits as international.
    if text.isdigit() and len(text) > 11:
        text = "+" + text
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(_("'%(raw)s' is not a phone number") % {"raw": raw}) from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(_("'%(raw)s' is not a valid phone number (write it as +55 11 98765-4321)") % {"raw": raw})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# Countries and regions WhatsApp Business may not message (Meta's trade-compliance list).
# Crimea, Donetsk and Luhansk share Russia's +7 and are told apart by their area codes.
RESTRICTED_PREFIXES: dict[str, str] = {
    "+53": "Cuba",
    "+98": "Iran",
    "+850": "North Korea",
    "+963": "Syria",
    "+7978": "Crimea",
    "+7856": "Donetsk",
    "+7857": "Luhansk",
}


def phone_restricted_region(e164: str) -> str | None:
    """The name of the restricted country/region an E.164 number belongs to, or None."""
    for prefix, region in RESTRICTED_PREFIXES.items():
        if e164.startswith(prefix):
            return region
    return None


@lru_cache(maxsize=65536)
def phone_from_wa_id(wa_id: str) -> str:
    """E.164 of a WhatsApp id (digits, no '+').

    Meta has already verified the number, so when ``phonenumbers`` does not know a fresh range we
    still accept the digits as they are rather than drop the customer's message.
    """
    digits = "".join(ch for ch in str(wa_id) if ch.isdigit())
    if not digits:
        raise InvalidPhone(_("'%(id)s' is not a WhatsApp id") % {"id": wa_id})
    try:
        return phone_normalize("+" + digits)
    except InvalidPhone:
        return "+" + digits

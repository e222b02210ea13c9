"""Check digits of the identifiers the directory imports: FINESS, RPPS, ADELI (and SIRET/SIREN).

All of them end with a Luhn check digit. FINESS numbers are 9 characters whose second one may be
a letter: Corsica's ``2A`` is read as ``21`` and ``2B`` as ``22`` before the Luhn sum (so
``2A0000030`` is valid). Identifiers are always strings: a leading zero is part of the number.
"""

FINESS_LENGTH = 9
RPPS_LENGTH = 11
ADELI_LENGTH = 9
SIRET_LENGTH = 14
SIREN_LENGTH = 9
LA_POSTE_SIREN = "356000000"

_CORSICA_PREFIXES = {"2A": "21", "2B": "22"}
# A doubled digit replaced by what it adds to the sum: 2n, minus 9 when that has two digits.
_DOUBLED = str.maketrans("0123456789", "0246813579")


def luhn_is_valid(digits: str) -> bool:
    """Whether a string of ASCII digits passes the Luhn (mod 10) check."""
    if not digits.isascii() or not digits.isdigit():
        return False
    return sum(map(int, digits[-1::-2] + digits[-2::-2].translate(_DOUBLED))) % 10 == 0


def finess_digits(number: str) -> str:
    """The digits the FINESS check digit is computed on (``2A`` -> ``21``, ``2B`` -> ``22``)."""
    prefix = number[:2]
    return _CORSICA_PREFIXES.get(prefix, prefix) + number[2:]


def finess_is_valid(number: str) -> bool:
    """A FINESS number (ET or EJ): 9 characters, Luhn check digit, Corsica read as 21/22."""
    return len(number) == FINESS_LENGTH and luhn_is_valid(finess_digits(number))


def rpps_is_valid(number: str) -> bool:
    """An RPPS number: 11 digits with a Luhn check digit."""
    return len(number) == RPPS_LENGTH and luhn_is_valid(number)


def adeli_is_valid(number: str) -> bool:
    """An ADELI number: 9 digits with a Luhn check digit."""
    return len(number) == ADELI_LENGTH and luhn_is_valid(number)


def siret_is_valid(number: str) -> bool:
    """A SIRET number: 14 digits with a Luhn check digit.

    La Poste's establishments (SIREN 356000000) may follow another rule instead (sum of the
    digits divisible by 5); both are accepted for them.
    """
    if len(number) != SIRET_LENGTH:
        return False
    if luhn_is_valid(number):
        return True
    if not number.startswith(LA_POSTE_SIREN) or not number.isascii() or not number.isdigit():
        return False
    return sum(map(int, number)) % 5 == 0


def siren_is_valid(number: str) -> bool:
    """A SIREN number: 9 digits with a Luhn check digit."""
    return len(number) == SIREN_LENGTH and luhn_is_valid(number)

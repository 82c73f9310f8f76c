"""The decimal digits RethinkDB prints for a double: Grisu2, as in rapidjson.

RethinkDB turns numbers into text (``coerce_to('STRING')``, ``to_json_string``,
messages) with rapidjson's writer, whose ``dtoa`` is Florian Loitsch's Grisu2. Grisu2's
digits always read back as the same double, but they are not always the shortest or the
closest such digits (e.g. 40007862.917250894 prints as 40007862.917250897), so Python's
``repr`` cannot stand in for it. This is Grisu2 from the paper ("Printing Floating-Point
Numbers Quickly and Accurately with Integers", PLDI 2010) with rapidjson's choices:
64-bit "do-it-yourself" floats with a rounded product, the cached powers of ten
10^(-348 + 8i) rounded to 64 bits, boundaries narrowed by one unit on each side, and the
final digit nudged towards the value ("round weed") while it stays inside the boundaries.
"""

from __future__ import annotations

import struct
from fractions import Fraction

_M64 = (1 << 64) - 1
_HIDDEN = 1 << 52


def _cached_power(k10: int) -> tuple[int, int]:
    """10**k10 as a normalized 64-bit significand (rounded to nearest) and binary exponent."""
    v = Fraction(10) ** k10
    e = v.numerator.bit_length() - v.denominator.bit_length() - 64
    while True:
        f = v / (Fraction(2) ** e)
        if f < (1 << 63):
            e -= 1
        elif f >= (1 << 64):
            e += 1
        else:
            break
    n = round(f)
    if n == 1 << 64:
        n >>= 1
        e += 1
    return n, e


_CACHED: dict[int, tuple[int, int]] = {}


def _cached(index: int) -> tuple[int, int]:
    c = _CACHED.get(index)
    if c is None:
        c = _CACHED[index] = _cached_power(-348 + 8 * index)
    return c


def _mul(f1: int, f2: int) -> int:
    p = f1 * f2
    h = p >> 64
    if p & (1 << 63):
        h += 1
    return h


def _normalize(f: int, e: int) -> tuple[int, int]:
    s = 64 - f.bit_length()
    return f << s, e - s


def _round_weed(digits: list[int], delta: int, rest: int, ten_kappa: int, wp_w: int) -> None:
    while rest < wp_w and delta - rest >= ten_kappa and (
        rest + ten_kappa < wp_w or wp_w - rest > rest + ten_kappa - wp_w
    ):
        digits[-1] -= 1
        rest += ten_kappa


def grisu2(value: float) -> tuple[str, int]:
    """Digits and decimal exponent of a positive finite double: value ~ digits * 10**k."""
    bits = struct.unpack("<Q", struct.pack("<d", value))[0]
    biased = (bits >> 52) & 0x7FF
    sig = bits & (_HIDDEN - 1)
    if biased:
        f, e = sig + _HIDDEN, biased - 1075
    else:
        f, e = sig, -1074
    # Boundaries m+ and m- (halfway to the neighbours), on m+'s exponent.
    pf, pe = (f << 1) + 1, e - 1
    while not pf & (_HIDDEN << 1):
        pf <<= 1
        pe -= 1
    pf <<= 10
    pe -= 10
    if f == _HIDDEN:
        mf, me = (f << 2) - 1, e - 2
    else:
        mf, me = (f << 1) - 1, e - 1
    mf <<= me - pe
    # The cached power bringing m+'s exponent into [-60, -32].
    dk = (-61 - pe) * 0.30102999566398114 + 347
    k = int(dk)
    if dk - k > 0.0:
        k += 1
    index = (k >> 3) + 1
    big_k = -(-348 + (index << 3))
    cf, ce = _cached(index)
    wf, _ = _normalize(f, e)  # same exponent as m+ once normalized
    w_f = _mul(wf, cf)
    wp_f = _mul(pf, cf) - 1
    wp_e = pe + ce + 64
    wm_f = _mul(mf, cf) + 1
    delta = wp_f - wm_f
    # Digit generation (rapidjson's DigitGen).
    one_e = -wp_e
    one_f = 1 << one_e
    wp_w = (wp_f - w_f) & _M64
    p1 = wp_f >> one_e
    p2 = wp_f & (one_f - 1)
    kappa = len(str(p1)) if p1 else 1
    digits: list[int] = []
    while kappa > 0:
        div = 10 ** (kappa - 1)
        d, p1 = divmod(p1, div)
        if d or digits:
            digits.append(d)
        kappa -= 1
        tmp = (p1 << one_e) + p2
        if tmp <= delta:
            big_k += kappa
            _round_weed(digits, delta, tmp, (10**kappa) << one_e, wp_w)
            return "".join(map(str, digits)), big_k
    while True:
        p2 = (p2 * 10) & _M64
        delta = (delta * 10) & _M64
        d = p2 >> one_e
        if d or digits:
            digits.append(d)
        p2 &= one_f - 1
        kappa -= 1
        if p2 < delta:
            big_k += kappa
            index = -kappa
            scale = 10**index if index < 9 else 0
            _round_weed(digits, delta, p2, one_f, (wp_w * scale) & _M64)
            return "".join(map(str, digits)), big_k

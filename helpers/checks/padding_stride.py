"""Self-checks for notebook 04 (padding and stride).

Each check prints one verdict line (see :func:`helpers.checks.report`) and returns True or False.
"""
from __future__ import annotations

import math

from . import report

__all__ = ["check_output_size", "check_same_padding", "check_leftover"]

_PLACEHOLDER = "Replace the ... with your answer (a whole number), then run the cell again."


def _whole_number(answer):
    """``answer`` as an int, or None if it is not a whole number."""
    if answer is ... or answer is None or isinstance(answer, bool):
        return None
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return None
    return int(value) if value == int(value) else None


def check_output_size(answer, n: int, k: int, padding: int = 0, stride: int = 1, dilation: int = 1) -> bool:
    """Is ``answer`` the output length of a convolution over ``n`` pixels with these settings?"""
    from helpers.conv import output_size

    right = output_size(n, k, padding, stride, dilation)
    formula = f"floor(({n} + 2*{padding} - {dilation * (k - 1) + 1}) / {stride}) + 1 = {right}"
    if answer is ... or answer is None:
        return report(False, _PLACEHOLDER)
    value = _whole_number(answer)
    if value is None:
        return report(False, f"an output size is a whole number of pixels, got {answer!r}. Round down (floor).")
    if value == right:
        return report(True, f"{formula}.")
    span = dilation * (k - 1) + 1
    hints = [
        (right - 1, "you forgot the +1: the first window sits at position 0 and counts too."),
        ((n + padding - span) // stride + 1, "padding is added on both sides, so it counts twice: n + 2p."),
        ((n + 2 * padding - span) // 2 + 1 if stride != 2 else None,
         f"you divided by 2; divide by the stride ({stride})."),
        ((n + 2 * padding - span) + 1 if stride != 1 else None,
         f"you ignored the stride: the window jumps {stride} pixels, so divide by {stride}."),
        (math.ceil((n + 2 * padding - span) / stride) + 1 if (n + 2 * padding - span) % stride else None,
         "you rounded up. A window that would hang over the edge is dropped: round down (floor)."),
        ((n + 2 * padding - k) // stride + 1 if dilation > 1 else None,
         f"with dilation {dilation} the kernel spans d(k-1)+1 = {span} pixels, not k = {k}."),
        ((n - span) // stride + 1 if padding else None, "you left the padding out: the zeros are part of the input."),
    ]
    for wrong, hint in hints:
        if wrong is not None and value == wrong:
            return report(False, f"{value} is not it: {hint}")
    return report(False, f"{value} is not it. Use floor((n + 2p - k) / s) + 1 with n={n}, k={k}, p={padding}, "
                         f"s={stride}" + (f" and k replaced by d(k-1)+1 = {span}" if dilation > 1 else "") + ".")


def check_same_padding(answer, k: int) -> bool:
    """Is ``answer`` the zeros per side that keep an n-pixel input n pixels wide with a k-wide kernel?"""
    if answer is ... or answer is None:
        return report(False, _PLACEHOLDER)
    value = _whole_number(answer)
    right = (k - 1) // 2
    if value == right:
        return report(True, f"a {k}x{k} kernel needs (k - 1) / 2 = {right} zero(s) on each side: "
                            f"n + 2*{right} - {k} + 1 = n.")
    if value == k - 1:
        return report(False, f"{k - 1} is the total the output shrinks by. Padding goes on both sides, so each "
                             "side needs half of that.")
    if value == k // 2 + 1 or value == k:
        return report(False, "too many zeros: the output would grow. Solve n + 2p - k + 1 = n for p.")
    return report(False, f"{answer!r} is not it. Solve n + 2p - k + 1 = n for p (k = {k}).")


def check_leftover(answer, n: int, k: int, padding: int = 0, stride: int = 1) -> bool:
    """Is ``answer`` the number of columns at the right edge of the padded input no window reaches?"""
    if answer is ... or answer is None:
        return report(False, _PLACEHOLDER)
    value = _whole_number(answer)
    from helpers.conv import output_size

    out = output_size(n, k, padding, stride)
    covered = (out - 1) * stride + k
    right = n + 2 * padding - covered
    if value == right:
        return report(True, f"{out} windows cover (out - 1)*s + k = {covered} of the {n + 2 * padding} padded "
                            f"columns; {right} {'is' if right == 1 else 'are'} left over"
                            + (" and dropped." if right else ": it tiles evenly."))
    if value == n + 2 * padding - (out * stride):
        return report(False, "the last window covers k columns, not s: covered = (out - 1)*s + k.")
    if value == n - covered:
        return report(False, "count the padded width n + 2p, the zeros are columns too.")
    return report(False, f"{answer!r} is not it. Work out out = floor((n + 2p - k)/s) + 1 first, then how far the "
                         "last window reaches: (out - 1)*s + k. The rest is left over.")


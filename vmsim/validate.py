"""Argument checks shared by every entry point: the one place that says what a number is.

The kernel's arguments are C integers: ``vm_paddr_t`` is 64 bits unsigned,
orders, domains and counts are ``int`` or ``u_long``.  Python is looser --
``True`` is an ``int``, integers have no width -- so every public entry
point (:class:`vmsim.machine.Machine`, the layout builders, the replay
format) checks its arguments here, before any state changes, and raises
:class:`~vmsim.errors.InvalidInput` naming the operation, the field and the
value.  Booleans are never accepted where a number goes, and no physical
address may reach ``2**64``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .errors import InvalidInput

__all__ = ["PADDR_LIMIT", "show", "hexa", "integer", "paddr", "items", "byte_range", "flag"]

#: One past the largest ``vm_paddr_t``: every physical address is below it.
PADDR_LIMIT = 1 << 64


def show(value) -> str:
    """A short, always printable description of *value* for an error message.

    ``repr()`` of an integer with thousands of digits raises in CPython (the
    4300-digit limit), and a long string would flood the message.
    """
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        return f"an integer of {value.bit_length()} bits"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def hexa(value: int) -> str:
    """*value* in hexadecimal, or :func:`show`'s description when it is absurdly long."""
    return f"{value:#x}" if value.bit_length() <= 128 else show(value)


def integer(op: str, name: str, value, minimum: int = 0, maximum: int | None = None) -> int:
    """*value* as an integer in ``[minimum, maximum]``; booleans and other types are refused."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidInput(op, f"{name} {show(value)} must be an integer, not {type(value).__name__}")
    if value < minimum or (maximum is not None and value > maximum):
        bound = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
        raise InvalidInput(op, f"{name} {show(value)} must be an integer {bound}")
    return value


def paddr(op: str, name: str, value) -> int:
    """A physical byte address: an integer in ``[0, 2**64)``, as ``vm_paddr_t`` holds."""
    value = integer(op, name, value)
    if value >= PADDR_LIMIT:
        raise InvalidInput(op, f"{name} {hexa(value)} does not fit in the 64-bit vm_paddr_t")
    return value


def items(op: str, name: str, value) -> list:
    """The entries of a sequence argument (a list, tuple or other iterable, but not text or a mapping)."""
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise InvalidInput(op, f"{name} must be a list, not {show(value)}")
    return list(value)


def byte_range(op: str, what: str, entry, page_size: int) -> tuple[int, int]:
    """A page-aligned ``[start, end)`` pair of physical addresses with ``start < end <= 2**64``."""
    if isinstance(entry, (str, bytes, Mapping)) or not isinstance(entry, (list, tuple)) or len(entry) != 2:
        raise InvalidInput(op, f"{what} entry {show(entry)} is not a [start, end) pair of integers")
    for x in entry:
        if not isinstance(x, int) or isinstance(x, bool):
            raise InvalidInput(op, f"{what} entry {show(entry)} is not a [start, end) pair of integers")
    start, end = entry
    shown = f"[{hexa(start)}, {hexa(end)})"
    if start < 0 or end >= PADDR_LIMIT:
        raise InvalidInput(op, f"{what} {shown} is not inside the 64-bit vm_paddr_t space")
    if (start | end) & (page_size - 1):
        raise InvalidInput(op, f"{what} {shown} is not page aligned")
    if not start < end:
        raise InvalidInput(op, f"{what} {shown} is empty or negative")
    return start, end


def flag(op: str, name: str, value) -> bool:
    """A true/false setting: only ``True`` or ``False``."""
    if not isinstance(value, bool):
        raise InvalidInput(op, f"{name} must be true or false, not {show(value)}")
    return value

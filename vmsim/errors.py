"""The exceptions vmsim raises.

Every error names the operation, the offending value and the rule it broke,
so that a reader can tell at once what went wrong.  The hierarchy is small:

* :class:`VmsimError` -- the root; catch it to catch everything.
* :class:`InvalidInput` -- the caller asked for something the kernel would
  reject with a ``KASSERT`` or a panic (an unaligned address, an unknown
  pool, a double free).  Raised *before* any state changes, so the machine is
  exactly as it was.
* :class:`InvariantViolation` -- the allocator's state broke one of the rules
  the kernel relies on.  Raised by :func:`vmsim.invariants.check` and by the
  checked page accessors; in the kernel this would be a panic or silent
  corruption, so the machine should be considered broken afterwards.
* :class:`UninitializedPageRead` -- a kind of invariant violation: code read a
  field of a ``struct vm_page`` that was never initialized, exactly the bug
  class that lazy initialization risks.
* :class:`CorruptionRefused` -- a valid request on which the *modelled kernel
  code itself* would corrupt memory, read outside the page array or trip one
  of its own assertions (the seed's 2023 ``vm_phys_free_contig`` on a short
  unaligned run; the boot blacklist taking the wrong domain's lock).  vmsim
  sees it coming and refuses *before* changing anything: the machine is
  exactly as it was and can go on.
"""

__all__ = [
    "VmsimError",
    "InvalidInput",
    "ScenarioError",
    "InvariantViolation",
    "UninitializedPageRead",
    "CorruptionRefused",
]


class VmsimError(Exception):
    """Root of every exception raised by vmsim."""


class InvalidInput(VmsimError, ValueError):
    """A request the kernel would refuse; raised before any state changes."""

    def __init__(self, op: str, message: str):
        self.op = op
        super().__init__(f"{op}: {message}")


class ScenarioError(InvalidInput):
    """A replay scenario that is malformed (wrong type, missing field, ...)."""


class InvariantViolation(VmsimError, AssertionError):
    """The allocator state breaks a rule the kernel relies on."""

    def __init__(self, rule: str, message: str):
        self.rule = rule
        super().__init__(f"{rule}: {message}")


class UninitializedPageRead(InvariantViolation):
    """A field of a never-initialized ``struct vm_page`` was read."""

    def __init__(self, op: str, pa: int, field: str):
        self.op = op
        self.pa = pa
        self.field = field
        super().__init__(
            "uninitialized-read",
            f"{op} read the {field} field of the vm_page for pa {pa:#x}, "
            "whose structure was never initialized (the kernel would read garbage)",
        )


class CorruptionRefused(VmsimError):
    """The kernel code being modelled would corrupt memory here, so vmsim refuses; nothing changed."""

    def __init__(self, op: str, message: str):
        self.op = op
        super().__init__(f"{op}: {message} (the modelled kernel code would corrupt memory here; "
                         "vmsim refused and left the machine unchanged)")

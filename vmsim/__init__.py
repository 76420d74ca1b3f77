"""vmsim: a model of FreeBSD's physical page allocator with lazy vm_page initialization.

The model mirrors ``sys/vm/vm_phys.c`` and the boot half of
``vm_page_startup()`` in ``sys/vm/vm_page.c`` as changed by the lazy-init
change (``VM_FREEPOOL_LAZYINIT``).  Start with :class:`Machine`::

    >>> from vmsim import Machine
    >>> m = Machine([[0, 1 << 30]], [[65536, 1040187392]])   # amd64, 1 GiB
    >>> m.page_inits, m.default_pool
    (87, 'LAZYINIT')
    >>> hex(m.alloc_pages(0, "DEFAULT", 0))                   # takes a lazy 16 MiB block
    '0x1000000'
    >>> m.page_inits                                          # ... and initializes it
    4182

The core imports only the standard library; figures (``vmsim.viz``) and
widgets (``vmsim.widgets``) sit on top and only read its state.
"""

from .arch import AMD64, ARCHES, ARM64, Arch
from .errors import (
    CorruptionRefused,
    InvalidInput,
    InvariantViolation,
    ScenarioError,
    UninitializedPageRead,
    VmsimError,
)
from .layout import Layout, arm64_vm, pc
from .machine import Machine
from .replay import run_scenario
from .revisions import COMMITTED, REVISIONS, SEED, Revision

__version__ = "0.1.0"

__all__ = [
    "AMD64",
    "ARCHES",
    "ARM64",
    "Arch",
    "COMMITTED",
    "CorruptionRefused",
    "InvalidInput",
    "InvariantViolation",
    "Layout",
    "Machine",
    "REVISIONS",
    "Revision",
    "SEED",
    "ScenarioError",
    "UninitializedPageRead",
    "VmsimError",
    "arm64_vm",
    "pc",
    "run_scenario",
    "__version__",
]

"""vmsim: a model of FreeBSD's physical page allocator with lazy vm_page initialization."""

__version__ = "0.1.0"

"""pytest configuration: this folder is on ``sys.path`` for every test below it.

Loading this file puts ``tests/`` first on ``sys.path`` (pytest's default import
mode), so the shared helpers here (``layouts``, ``book_toc``) are importable from
``tests/browser/`` too.
"""

"""Everything tests share that is not a fixture: factories, helpers that act like a learner or a browser, the
services a test starts. Test modules and conftest files import from here, never from one another; fixtures stay
in the conftest files (tests/test_suite_layout.py holds the suite to this)."""

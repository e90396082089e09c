import pytest

# What test_code_blocks ran, per lesson file: printed after the run as the "course code listings" section.
_EXECUTED_LISTINGS: dict[str, dict] = {}


@pytest.fixture(scope="session")
def executed_listings() -> dict[str, dict]:
    """Where the code-listing test records, per lesson file, how many blocks it ran and how long they took."""
    return _EXECUTED_LISTINGS


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not _EXECUTED_LISTINGS:
        return
    total = sum(v["blocks"] for v in _EXECUTED_LISTINGS.values())
    checked = sum(v["checked_outputs"] for v in _EXECUTED_LISTINGS.values())
    skipped = sum(v["skipped"] for v in _EXECUTED_LISTINGS.values())
    terminalreporter.section("course code listings")
    for name, v in sorted(_EXECUTED_LISTINGS.items()):
        terminalreporter.write_line(
            f"{name}: {v['blocks']} blocks run ({v['checked_outputs']} outputs checked, {v['skipped']} no-run), "
            f"{v['seconds']:.1f} s, slowest block {v['slowest']:.1f} s"
        )
    terminalreporter.write_line(f"executed {total} python blocks; {checked} printed outputs checked; {skipped} fragments not run")

def pytest_terminal_summary(terminalreporter, exitstatus, config):
    from tests.lessons.test_code_blocks import EXECUTED

    if not EXECUTED:
        return
    total = sum(v["blocks"] for v in EXECUTED.values())
    checked = sum(v["checked_outputs"] for v in EXECUTED.values())
    skipped = sum(v["skipped"] for v in EXECUTED.values())
    terminalreporter.section("course code listings")
    for name, v in sorted(EXECUTED.items()):
        terminalreporter.write_line(
            f"{name}: {v['blocks']} blocks run ({v['checked_outputs']} outputs checked, {v['skipped']} no-run), "
            f"{v['seconds']:.1f} s, slowest block {v['slowest']:.1f} s"
        )
    terminalreporter.write_line(f"executed {total} python blocks; {checked} printed outputs checked; {skipped} fragments not run")

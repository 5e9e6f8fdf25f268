"""pytest wiring for Tests/e2e: the fixtures live in bw_e2e.py (importable by the tests too)."""

import pytest

from bw_e2e import (  # noqa: F401 - fixtures are registered by being in this namespace
    SECRETS,
    binary,
    daemons,
    moto,
    no_secret_in_test_output,
    print_measurements,
    redact,
    workdir,
)


def pytest_terminal_summary(terminalreporter):
    print_measurements(terminalreporter)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Never print a test secret, not even in a failure report's captured output."""
    outcome = yield
    report = outcome.get_result()
    if not SECRETS:
        return
    report.sections = [(title, redact(content)) for title, content in report.sections]
    if report.longrepr is not None and redact(str(report.longrepr)) != str(report.longrepr):
        report.longrepr = redact(str(report.longrepr))

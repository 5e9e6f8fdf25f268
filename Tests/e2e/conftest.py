"""pytest wiring for Tests/e2e: the fixtures live in bw_e2e.py (importable by the tests too)."""

from bw_e2e import (  # noqa: F401 - fixtures are registered by being in this namespace
    binary,
    daemons,
    moto,
    no_secret_in_test_output,
    print_measurements,
    workdir,
)


def pytest_terminal_summary(terminalreporter):
    print_measurements(terminalreporter)

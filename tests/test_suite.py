"""The suite's own machinery."""

import os

import pytest


@pytest.mark.xdist_group("suite")
def test_tests_of_one_group_stay_on_one_worker(request: pytest.FixtureRequest) -> None:
    """pytest-xdist's `loadgroup` keeps a group on one worker by its nodeids' `@group` suffix.
    Without it, the tests that share a render are spread over the workers, each of which renders
    and syncs that variant again (pytest 9 with pytest-xdist 3.8 lost the suffix)."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        pytest.skip("not run by pytest-xdist")

    assert request.node.nodeid.endswith("@suite")

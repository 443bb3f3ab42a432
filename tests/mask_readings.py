"""Both ways a service may read a mask (see evolink/CONTRACT.md), for the mask tests.

A test that takes the `sandbox_mask_reading` fixture runs twice: against the sandbox
reading masks by transparency and reading them white = change (its `mask_reading`
switch, reset after the test). The app's masks must mean the same to both.
"""

import pytest

from playground.evolink.contract import MASK_READINGS


@pytest.fixture(params=MASK_READINGS)
def sandbox_mask_reading(request, sandbox_faults):
    sandbox_faults(mask_reading=request.param)
    return request.param

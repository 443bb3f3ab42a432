"""No request to the admin's pages makes a server error: the sweep of
tests/test_no_server_errors.py (each value known to break things in every path parameter,
then in every field at once) on every admin URL, as a staff superuser.

A file of its own: it is the costly part of the walk, and `--dist loadfile` gives each
file to one worker, so here it runs beside the rest of the walk rather than after it."""

import pytest

from .test_no_server_errors import ADMIN_ROUTES, STAFF, everything, sweep

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(team, owner, teammate, outsider, settings):
    settings.EVOLINK_MAX_RETRIES = 0
    return everything(team, owner, teammate, outsider)


ADMIN_CHUNKS = 4  # the admin's pages in a few tests, not one each: its world is the costly part


@pytest.mark.parametrize("chunk", range(ADMIN_CHUNKS))
def test_no_request_to_any_admin_page_answers_a_server_error(world, chunk):
    world["known"] = {**world["known"], "object_id": [world["users"]["owner"].pk, *world["known"]["pk"]],
                      "app_label": ["teams", "generations", "auth"], "content_type_id": ["1"]}
    for (_name, template), _converters in ADMIN_ROUTES[chunk::ADMIN_CHUNKS]:
        # Django's own pages: the sweep alone (every value in each path parameter, every field at once).
        sweep(world, template, STAFF, seconds=0)

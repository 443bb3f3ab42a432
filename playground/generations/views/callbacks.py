"""The receiver of the service's task callbacks.

Nothing signs a callback, so a delivery is only a hint: the body is never read, and
the task is asked about through the API at once. Only the API's answer is trusted,
and only URLs it gave are ever downloaded. A second, late or forged delivery changes
nothing; polling goes on as the safety net either way.
"""

from django.http import Http404, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from playground.generations.models import UPSTREAM_ACTIVE, Generation
from playground.generations.tasks import enqueue_poll


@csrf_exempt  # the service cannot hold a CSRF token; the URL's secret token stands in
@require_POST
def receive(request, token):
    generation = Generation.objects.filter(callback_token=token).only("pk", "status").first()
    if generation is None:
        raise Http404
    in_flight = Generation.objects.filter(pk=generation.pk, status__in=UPSTREAM_ACTIVE)
    if in_flight.update(next_check_at=timezone.now()):
        enqueue_poll(generation.pk)
    return HttpResponse(status=204)

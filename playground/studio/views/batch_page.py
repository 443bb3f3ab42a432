"""A batch once started: the team's batches, one batch's rows, and what can be done to it."""

from django.http import Http404


def batch_list(request):
    raise Http404


def detail(request, public_id):
    raise Http404


def progress(request, public_id):
    raise Http404


def retry(request, public_id):
    raise Http404


def cancel(request, public_id):
    raise Http404


def download(request, public_id):
    raise Http404

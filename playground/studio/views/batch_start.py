"""Starting a batch: the template, its values or file, the preview, and the start."""

from django.http import Http404


def new_batch(request):
    raise Http404


def preview(request):
    raise Http404

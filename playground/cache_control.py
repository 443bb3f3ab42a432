"""Signed-in answers are never kept by a browser's cache or a proxy on the way.

Pages and fragments show a team's key settings, budgets, history and people: a shared
browser or a caching proxy must not hand them to the next person. A view that chose its
own private caching (the image and reference files) keeps it.
"""

from django.utils.cache import patch_cache_control


class SignedInPagesNotStored:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return response
        if not response.has_header("Cache-Control"):
            response["Cache-Control"] = "private, no-store"
        else:
            patch_cache_control(response, private=True)  # whatever else it says, never shared
        return response

"""Sign-in throttling (django-axes): who is signing in from where, and what a locked-out person sees."""

from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.forms.forms import NON_FIELD_ERRORS
from django.template.response import TemplateResponse
from django.utils.translation import ngettext


def client_address(request):
    """The address that failed sign-ins are counted against.

    Behind the HTTPS proxy every request comes from the proxy, which appends the address it
    saw to X-Forwarded-For: the last entry is that one, and a client cannot forge it.
    """
    if settings.BEHIND_HTTPS_PROXY:
        seen_by_proxy = request.META.get("HTTP_X_FORWARDED_FOR", "").rsplit(",", 1)[-1].strip()
        if seen_by_proxy:
            return seen_by_proxy
    return request.META.get("REMOTE_ADDR")


def locked_out(request, original_response=None, credentials=None):
    """The sign-in page that was used (the app's or the admin's), saying why it refuses, as a 429."""
    minutes = max(1, round(get_cool_off(request).total_seconds() / 60))
    message = ngettext(
        "Too many failed sign-ins. Wait %(minutes)s minute, then try again.",
        "Too many failed sign-ins. Wait %(minutes)s minutes, then try again.",
        minutes,
    ) % {"minutes": minutes}
    response = original_response
    form = getattr(response, "context_data", None) and response.context_data.get("form")
    if not isinstance(form, AuthenticationForm):
        form = AuthenticationForm(request)
        response = TemplateResponse(request, "registration/login.html", {"form": form})
    # In place of "wrong password": even the right one is refused until the time is up.
    form.errors[NON_FIELD_ERRORS] = form.error_class([message], error_class="nonfield")
    response.content = response.rendered_content
    response.status_code = settings.AXES_HTTP_RESPONSE_CODE
    return response

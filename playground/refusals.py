"""Every refusal says what happened, in words.

Some answers are made without a body: Django's 405 for a method a view does not take, a bare
400 for a value no form offers, the 403 a signed-out fragment gets. Whoever meets one (an
address typed or bookmarked by hand, a form sent from elsewhere) would see a blank page;
they get the app's error page instead, with the same status and headers.
"""

from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

WORDS = {
    400: (_("Bad request"), _("This request could not be used: a value in it is not one this page takes.")),
    403: (_("Not allowed"), _("You are not allowed to do this. Sign in, or ask an owner of the team.")),
    404: (_("Not found"), _("There is nothing here, or it belongs to another team.")),
    405: (_("Not allowed here"), _("This address does not answer that kind of request.")),
}
OTHERWISE = (_("Refused"), _("The request was refused."))


class RefusalsInWords:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if 400 <= response.status_code < 500 and not response.streaming and not response.content.strip():
            heading, message = WORDS.get(response.status_code, OTHERWISE)
            context = {"heading": heading, "message": message}
            response.content = render_to_string("error_page.html", context, request=request)
            response["Content-Type"] = "text/html; charset=utf-8"
        return response

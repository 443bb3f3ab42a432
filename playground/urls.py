from django.contrib import admin
from django.contrib.auth.views import LoginView
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from playground.generations import callbacks

urlpatterns = [
    path("", include("playground.studio.urls")),
    path("", include("playground.teams.urls")),
    path("accounts/login/", LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    re_path(r"^callbacks/evolink/(?P<token>[A-Za-z0-9_-]{20,64})$", callbacks.receive, name="evolink-callback"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    # Pages without the icon link (the admin's) make browsers ask here.
    path("favicon.ico", RedirectView.as_view(url=static("playground/icon.svg"), permanent=True)),
]

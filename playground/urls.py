from django.contrib import admin
from django.contrib.auth.views import LoginView
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView

urlpatterns = [
    path("", include("playground.studio.urls")),
    path("", include("playground.teams.urls")),
    path("", include("playground.library.urls")),
    path("accounts/login/", LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("playground.generations.urls")),
    path("", include("playground.gateway.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    # Pages without the icon link (the admin's) make browsers ask here. Its hashed name is read
    # when asked: the manifest may not exist yet when the URLs load (`manage.py up` collects later).
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("playground/icon.svg"), permanent=True)),
]

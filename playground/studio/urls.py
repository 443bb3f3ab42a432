from django.urls import path, re_path

from . import views

app_name = "studio"

urlpatterns = [
    path("", views.playground, name="playground"),
    path("generate", views.generate, name="generate"),
    path("history", views.history, name="history"),
    path("generations/<uuid:public_id>", views.generation_card, name="generation"),
    re_path(
        r"^images/(?P<public_id>[0-9a-f-]{36})/(?P<variant>full|thumb)$",
        views.image_file,
        name="image",
    ),
]

from django.urls import re_path

from .views import callbacks

urlpatterns = [
    # Not namespaced: lifecycle.callback_for reverses "evolink-callback".
    re_path(r"^callbacks/evolink/(?P<token>[A-Za-z0-9_-]{20,64})$", callbacks.receive, name="evolink-callback"),
]

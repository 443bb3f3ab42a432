from django.urls import path

from . import views

app_name = "library"

urlpatterns = [
    path("library/", views.library, name="library"),
    path("library/picker", views.picker, name="picker"),
    path("library/new", views.save, name="save"),
    path("library/<int:pk>/edit", views.edit, name="edit"),
    path("library/<int:pk>/delete", views.delete, name="delete"),
    path("library/<int:pk>/use", views.use, name="use"),
]

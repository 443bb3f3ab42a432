from django.urls import path, register_converter

from . import compare, details, export, views


class ImageVariant:
    regex = "full|thumb|raw"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(ImageVariant, "variant")

app_name = "studio"

urlpatterns = [
    path("", views.playground, name="playground"),
    path("generate", views.generate, name="generate"),
    path("history", views.history, name="history"),
    path("generations/", views.generations, name="generations"),
    path("generations/<uuid:public_id>/favourite", views.favourite, name="favourite"),
    path("generations/<uuid:public_id>/details", details.detail, name="generation-detail"),
    path("generations/<uuid:public_id>/delete", details.delete, name="generation-delete"),
    path("generations/<uuid:public_id>/tags", details.tags, name="generation-tags"),
    path("generations/<uuid:public_id>/download.zip", export.generation_zip, name="generation-zip"),
    path("generations/download.zip", export.selection_zip, name="selection-zip"),
    path("generations/compare", compare.compare, name="compare"),
    path("generations/<uuid:public_id>", views.generation_card, name="generation"),
    path("images/<uuid:public_id>/<variant:variant>", views.image_file, name="image"),
    path("references", views.reference_field, name="references"),
    path("references/earlier", views.earlier_references, name="earlier-references"),
    path("references/<uuid:public_id>/<variant:variant>", views.reference_file, name="reference"),
    path("code", views.show_code, name="code"),
]

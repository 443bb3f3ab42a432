from django.urls import path, register_converter

from .views import (
    account,
    batch_page,
    batch_start,
    compare,
    details,
    export,
    files,
    history,
    images,
    playground,
    tokens,
    usage,
    waiting,
)


class ImageVariant:
    regex = "full|thumb|raw"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(ImageVariant, "variant")

app_name = "studio"

urlpatterns = [
    path("", playground.playground, name="playground"),
    path("generate", playground.generate, name="generate"),
    path("history", history.history, name="history"),
    path("generations/", history.generations, name="generations"),
    path("generations/<uuid:public_id>/favourite", history.favourite, name="favourite"),
    path("generations/<uuid:public_id>/tile", history.gallery_tile, name="gallery-tile"),
    path("generations/<uuid:public_id>/details", details.detail, name="generation-detail"),
    path("generations/<uuid:public_id>/delete", details.delete, name="generation-delete"),
    path("generations/<uuid:public_id>/cancel", waiting.cancel, name="generation-cancel"),
    path("generations/<uuid:public_id>/tags", details.tags, name="generation-tags"),
    path("generations/<uuid:public_id>/download.zip", export.generation_zip, name="generation-zip"),
    path("generations/download.zip", export.selection_zip, name="selection-zip"),
    path("generations/compare", compare.compare, name="compare"),
    path("generations/<uuid:public_id>", history.generation_card, name="generation"),
    path("images/<uuid:public_id>/<variant:variant>", files.image_file, name="image"),
    path("images/<uuid:public_id>/vary", images.vary, name="image-vary"),
    path("images/<uuid:public_id>/viewer", images.viewer_panel, name="image-viewer"),
    path("references", playground.reference_field, name="references"),
    path("references/earlier", playground.earlier_references, name="earlier-references"),
    path("references/mask", playground.mask_preview, name="mask-preview"),
    path("references/<uuid:public_id>/<variant:variant>", files.reference_file, name="reference"),
    path("batches/", batch_page.batch_list, name="batches"),
    path("batches/new", batch_start.new_batch, name="batch-new"),
    path("batches/preview", batch_start.preview, name="batch-preview"),
    path("batches/<uuid:public_id>/", batch_page.detail, name="batch"),
    path("batches/<uuid:public_id>/progress", batch_page.progress, name="batch-progress"),
    path("batches/<uuid:public_id>/retry", batch_page.retry, name="batch-retry"),
    path("batches/<uuid:public_id>/cancel", batch_page.cancel, name="batch-cancel"),
    path("batches/<uuid:public_id>/download.zip", batch_page.download, name="batch-zip"),
    path("code", playground.show_code, name="code"),
    path("team/key", account.key, name="key"),
    path("team/key/test", account.test_key, name="test-key"),
    path("team/key/hosted-files", account.hosted_files, name="key-hosted-files"),
    path("team/budgets", account.budgets, name="budgets"),
    path("team/usage", usage.usage, name="usage"),
    path("team/tokens", tokens.token_list, name="tokens"),
    path("team/tokens/new", tokens.create_token, name="create-token"),
    path("team/tokens/<slug:prefix>/revoke", tokens.revoke_token, name="revoke-token"),
    path("team/tokens/<slug:prefix>/callback-secret", tokens.callback_secret, name="token-callback-secret"),
    path("team/usage.csv", usage.usage_csv, name="usage-csv"),
    path("team/usage/balance", usage.balance, name="usage-balance"),
]

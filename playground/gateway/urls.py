"""The vendor's endpoints on the app's one origin: a client changes only its base URL
(the API and file hosting alike) and its key, a personal token."""

from django.urls import path, re_path

from .views import files, links, tasks

app_name = "gateway"

SIGNED = r"(?P<signed>[A-Za-z0-9_:=-]{20,400})\.(?P<extension>jpg|png|webp)"

urlpatterns = [
    path("v1/images/generations", tasks.create_generation, name="create"),
    path("v1/tasks/<str:task_id>", tasks.task_detail, name="task"),
    path("v1/credits", tasks.credits_left, name="credits"),
    path("api/v1/files/upload/stream", files.upload_stream, name="upload-stream"),
    path("api/v1/files/upload/base64", files.upload_base64, name="upload-base64"),
    path("api/v1/files/upload/url", files.upload_url, name="upload-url"),
    path("api/v1/files/<str:file_id>", files.delete, name="file"),
    re_path(rf"^v1/results/{SIGNED}$", links.result, name="result-link"),
    re_path(rf"^v1/files/{SIGNED}$", links.file, name="file-link"),
    # Anything else under the API's paths is answered in the vendor's shape, not with a page.
    re_path(r"^(?:api/)?v1/", tasks.unknown_path, name="unknown"),
]

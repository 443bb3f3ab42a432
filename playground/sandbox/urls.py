from django.urls import path, re_path

from . import views

urlpatterns = [
    path("v1/images/generations", views.create_generation),
    path("v1/tasks/<str:task_id>", views.task_detail),
    path("v1/credits", views.credits),
    path("results/<str:task_id>/<int:index>.png", views.result_image),
    path("api/v1/files/upload/stream", views.upload_stream),
    path("api/v1/files/upload/base64", views.upload_base64),
    path("api/v1/files/upload/url", views.upload_url),
    path("api/v1/files/list", views.file_list),
    path("api/v1/files/quota", views.file_quota),
    path("api/v1/files/<str:file_id>", views.file_delete),
    re_path(r"^files/(?P<file_id>[\w-]+)\.(?P<extension>[a-z]+)$", views.file_content),
    path("_sandbox/faults", views.fault_switches),
    path("_sandbox/calls", views.served_calls),
]

handler400 = views.bad_request
handler404 = views.not_found
handler500 = views.server_error

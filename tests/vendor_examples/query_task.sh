curl --request GET \
  --url https://api.evolink.ai/v1/tasks/{task_id} \
  --header 'Authorization: Bearer <token>'

curl --request GET \
  --url https://api.evolink.ai/v1/credits \
  --header 'Authorization: Bearer <token>'

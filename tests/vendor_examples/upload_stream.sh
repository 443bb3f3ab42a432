curl --request POST \
  --url https://files-api.evolink.ai/api/v1/files/upload/stream \
  --header 'Authorization: Bearer <token>' \
  --form 'file=@{file}'

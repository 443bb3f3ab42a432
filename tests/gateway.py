"""Helpers for the gateway's tests: tokens, and a client that speaks to the API as a script does."""

import json

from playground.teams import tokens


def issue(team, user, name="notebook", **options):
    """A personal token of `user` in `team`: (the token row, its plain text)."""
    return tokens.issue(team, user, name=name, **options)


class Script:
    """A script holding a personal token, over Django's test client."""

    def __init__(self, client, plain):
        self.client = client
        self.headers = {"Authorization": f"Bearer {plain}"}

    def post(self, path, body, **headers):
        return self.client.post(path, json.dumps(body), content_type="application/json",
                                headers={**self.headers, **headers})

    def get(self, path, **headers):
        return self.client.get(path, headers={**self.headers, **headers})

    def delete(self, path):
        return self.client.delete(path, headers=self.headers)

    def upload(self, data, name="photo.png"):
        from django.core.files.uploadedfile import SimpleUploadedFile

        return self.client.post("/api/v1/files/upload/stream", {"file": SimpleUploadedFile(name, data)},
                                headers=self.headers)

    def create(self, prompt="a lighthouse at dusk", **fields):
        return self.post("/v1/images/generations", {"model": "gpt-4o-image", "prompt": prompt, **fields})

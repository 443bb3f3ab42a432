"""'Show as code': the API request the playground form stands for, ready to copy.

Sent straight to the service, or through this server's EvoLink-compatible API with a
personal token (the same request, another base URL and key). Neither key is written out:
the snippets read them from the EVOLINK_API_KEY and PLAYGROUND_TOKEN environment
variables. References not hosted yet are shown as placeholders.
"""

import json
import shlex

from django.utils.translation import gettext as _

from playground.evolink.contract import MODEL

KEY_VARIABLE = "EVOLINK_API_KEY"
TOKEN_VARIABLE = "PLAYGROUND_TOKEN"


def request_body(data, chosen, has_mask):
    body = {"model": MODEL, "prompt": data.get("prompt", ""), "size": data.get("size") or "1:1"}
    try:
        body["n"] = int(data.get("n") or 1)
    except ValueError:
        body["n"] = 1
    if has_mask and not chosen[0].is_png:  # the contract wants a PNG beside a mask
        body["image_urls"] = ["https://…/reference-1.png"]
    elif chosen:
        body["image_urls"] = [url_or_placeholder(reference, number) for number, reference in enumerate(chosen, 1)]
    if has_mask:
        body["mask_url"] = "https://…/mask.png"
    if data.get("callback_url", "").strip():
        body["callback_url"] = data["callback_url"].strip()
    return body


def url_or_placeholder(reference, number):
    return reference.hosted_url if reference.is_hosted() else f"https://…/reference-{number}.{reference.extension}"


def snippets(data, chosen, has_mask, base_url, gateway_url=None):
    """The request as cURL and Python, to `base_url` (the service) and, when given, to
    `gateway_url` (this server) with a personal token."""
    body = request_body(data, chosen, has_mask)
    payload = json.dumps(body, indent=2, ensure_ascii=False)
    found = [
        {"name": "curl", "title": "cURL", "text": curl(base_url, payload, KEY_VARIABLE)},
        {"name": "python", "title": "Python (httpx)", "text": python(base_url, payload, KEY_VARIABLE)},
    ]
    if gateway_url:
        # The token's variable is said in the snippet itself: the panel's help speaks of the key's.
        note = "# " + _("Your personal token (the tokens page) in %(variable)s") % {"variable": TOKEN_VARIABLE}
        found += [
            {"name": "curl-gateway", "title": _("cURL through this server, with your token"),
             "text": note + "\n" + curl(gateway_url, payload, TOKEN_VARIABLE)},
            {"name": "python-gateway", "title": _("Python (httpx) through this server, with your token"),
             "text": note + "\n" + python(gateway_url, payload, TOKEN_VARIABLE)},
        ]
    placeholders = has_mask or any("https://…/" in url for url in body.get("image_urls", []))
    return {"snippets": found, "placeholders": placeholders}


def create_url(base_url):
    return f"{base_url.rstrip('/')}/v1/images/generations"


def curl(base_url, payload, variable):
    return "\n".join(
        [
            f"curl -X POST {shlex.quote(create_url(base_url))} \\",
            f'  -H "Authorization: Bearer ${variable}" \\',
            "  -H 'Content-Type: application/json' \\",
            f"  -d {shlex.quote(payload)}",
        ]
    )


def python(base_url, payload, variable):
    python_body = payload.replace("\n", "\n    ")
    return "\n".join(
        [
            "import os",
            "",
            "import httpx",
            "",
            "response = httpx.post(",
            f"    {json.dumps(create_url(base_url))},",
            f'    headers={{"Authorization": f"Bearer {{os.environ[{variable!r}]}}"}},',
            f"    json={python_body},",
            "    timeout=30,",
            ")",
            "response.raise_for_status()",
            "task = response.json()",
            'print(task["id"], task["status"])',
        ]
    )

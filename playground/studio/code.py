"""'Show as code': the API request the playground form stands for, ready to copy.

The key is never written out: the snippets read it from the EVOLINK_API_KEY
environment variable. References not hosted yet are shown as placeholders.
"""

import json
import shlex

from playground.evolink.contract import MODEL

KEY_VARIABLE = "EVOLINK_API_KEY"


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


def snippets(data, chosen, has_mask, base_url):
    body = request_body(data, chosen, has_mask)
    url = f"{base_url.rstrip('/')}/v1/images/generations"
    payload = json.dumps(body, indent=2, ensure_ascii=False)
    curl = "\n".join(
        [
            f"curl -X POST {shlex.quote(url)} \\",
            f'  -H "Authorization: Bearer ${KEY_VARIABLE}" \\',
            "  -H 'Content-Type: application/json' \\",
            f"  -d {shlex.quote(payload)}",
        ]
    )
    python_body = payload.replace("\n", "\n    ")
    python = "\n".join(
        [
            "import os",
            "",
            "import httpx",
            "",
            "response = httpx.post(",
            f"    {json.dumps(url)},",
            f'    headers={{"Authorization": f"Bearer {{os.environ[{KEY_VARIABLE!r}]}}"}},',
            f"    json={python_body},",
            "    timeout=30,",
            ")",
            "response.raise_for_status()",
            "task = response.json()",
            'print(task["id"], task["status"])',
        ]
    )
    placeholders = has_mask or any("https://…/" in url for url in body.get("image_urls", []))
    return {
        "snippets": [
            {"name": "curl", "title": "cURL", "text": curl},
            {"name": "python", "title": "Python (httpx)", "text": python},
        ],
        "placeholders": placeholders,
    }

"""'Show as code': the API request the playground form stands for, ready to copy.

The request goes where the team's own requests go: EvoLink's address (or the one an
owner or operator set) when a key is in use, the built-in sandbox's only when the
sandbox is in use. The same request can also go through this server's EvoLink-compatible
API with a personal token (another base URL and key). Neither key is written out: the
snippets read them from the EVOLINK_API_KEY and PLAYGROUND_TOKEN environment variables.
References not hosted yet are shown as placeholders. Each create carries an
Idempotency-Key, as the app's own do.
"""

import json
import shlex

from django.conf import settings
from django.utils.safestring import mark_safe
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import BashLexer, JavascriptLexer, PythonLexer

from playground.evolink.client import new_idempotency_key
from playground.evolink.contract import IDEMPOTENCY_HEADER, MODEL

KEY_VARIABLE = "EVOLINK_API_KEY"
TOKEN_VARIABLE = "PLAYGROUND_TOKEN"
PATH = "/v1/images/generations"
# Token classes only (see .code-dialog in dialogs.css): no inline styles under the CSP.
FORMATTER = HtmlFormatter(nowrap=True)


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


def endpoint(account):
    """The create's address on the account the team uses; EvoLink's when the team has none yet."""
    return create_url(account.base_url or settings.EVOLINK_BASE_URL)


def create_url(base_url):
    return f"{base_url.rstrip('/')}{PATH}"


def curl_snippet(url, payload, variable):
    return "\n".join(
        [
            f"curl -X POST {shlex.quote(url)} \\",
            f'  -H "Authorization: Bearer ${variable}" \\',
            "  -H 'Content-Type: application/json' \\",
            f"  -H {shlex.quote(f'{IDEMPOTENCY_HEADER}: {new_idempotency_key()}')} \\",
            f"  -d {shlex.quote(payload)}",
        ]
    )


def python_snippet(url, payload, variable):
    return "\n".join(
        [
            "import os",
            "import uuid",
            "",
            "import httpx",
            "",
            "response = httpx.post(",
            f"    {json.dumps(url)},",
            "    headers={",
            f'        "Authorization": f"Bearer {{os.environ[{variable!r}]}}",',
            f'        "{IDEMPOTENCY_HEADER}": f"run_{{uuid.uuid4()}}",',
            "    },",
            f"    json={indented(payload, 4)},",
            "    timeout=30,",
            ")",
            "response.raise_for_status()",
            "task = response.json()",
            'print(task["id"], task["status"])',
        ]
    )


def javascript_snippet(url, payload, variable):
    return "\n".join(
        [
            'import { randomUUID } from "node:crypto";',
            "",
            f"const response = await fetch({json.dumps(url)}, {{",
            '  method: "POST",',
            "  headers: {",
            f"    Authorization: `Bearer ${{process.env.{variable}}}`,",
            '    "Content-Type": "application/json",',
            f'    "{IDEMPOTENCY_HEADER}": `run_${{randomUUID()}}`,',
            "  },",
            f"  body: JSON.stringify({indented(payload, 2)}),",
            "});",
            "if (!response.ok) throw new Error(`${response.status}: ${await response.text()}`);",
            "const task = await response.json();",
            "console.log(task.id, task.status);",
        ]
    )


def indented(text, spaces):
    return text.replace("\n", "\n" + " " * spaces)


SNIPPETS = [
    ("curl", "cURL", curl_snippet, BashLexer),
    ("python", "Python", python_snippet, PythonLexer),
    ("javascript", "JavaScript", javascript_snippet, JavascriptLexer),
]


def snippets(data, chosen, has_mask, account, gateway_url=None):
    """The request as cURL, Python and JavaScript, each as text and highlighted, and where it
    goes; with `gateway_url` (this server's address), the same through its API with a token."""
    body = request_body(data, chosen, has_mask)
    url = endpoint(account)
    payload = json.dumps(body, indent=2, ensure_ascii=False)
    placeholders = has_mask or any("https://…/" in link for link in body.get("image_urls", []))
    shown = {
        "snippets": rendered(url, payload, KEY_VARIABLE),
        "placeholders": placeholders,
        "endpoint": url,
        "source": account.source,
        "on_sandbox": account.source == "sandbox" or bool(account.base_url and account.is_sandbox),
    }
    if gateway_url:
        shown["gateway_endpoint"] = create_url(gateway_url)
        shown["gateway_snippets"] = rendered(shown["gateway_endpoint"], payload, TOKEN_VARIABLE, suffix="-gateway")
    return shown


def rendered(url, payload, variable, suffix=""):
    shown = []
    for name, title, make, lexer in SNIPPETS:
        text = make(url, payload, variable)
        # Pygments escapes the text; its closing newline would be copied too.
        html = mark_safe(highlight(text, lexer(), FORMATTER).rstrip("\n"))
        shown.append({"name": name + suffix, "title": title, "text": text, "html": html})
    return shown

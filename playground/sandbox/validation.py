"""Checks of a create-task request, in the order and words of the contract."""

import re
from urllib.parse import urlsplit

from django.conf import settings

from playground.evolink.contract import (
    COUNTS,
    MAX_CALLBACK_URL,
    SIZES,
    clean_model,
    create_fields,
    image_url_list,
    invalid,
    is_internal_host,
    prompt_string,
)

from .errors import FAILURE_MESSAGES

MAX_URL = MAX_CALLBACK_URL
MAX_DIRECTIVE_SECONDS = 3600
DIRECTIVE = re.compile(r"\[sandbox:(\w+)=([^\]]*)\]")


def is_whole(value):
    return isinstance(value, int) and not isinstance(value, bool)


def clean_generation(body):
    """The request's fields, checked and with defaults, or an ApiError naming the field."""
    body = create_fields(body)
    cleaned = {
        "model": clean_model(body.get("model")),
        "prompt": clean_prompt(body.get("prompt")),
        "size": clean_size(body.get("size")),
        "n": clean_count(body.get("n")),
        "image_urls": clean_image_urls(body.get("image_urls")),
        "mask_url": None,
        "callback_url": clean_callback_url(body.get("callback_url")),
    }
    if body.get("mask_url") is not None:
        cleaned["mask_url"] = clean_url(body["mask_url"], "mask_url")
        if len(cleaned["image_urls"]) > 1:
            raise invalid(
                "mask_url", "mask_url cannot be used when image_urls holds more than one image."
            )
    cleaned.update(directives(cleaned["prompt"], cleaned["n"]))
    return cleaned


def clean_prompt(prompt):
    prompt = prompt_string(prompt)
    if not prompt.strip():
        raise invalid("prompt", "prompt must not be empty.")
    limit = settings.SANDBOX_MAX_PROMPT
    if len(prompt) > limit:
        raise invalid(
            "prompt", f"prompt must be at most {limit} characters long (it has {len(prompt)})."
        )
    return prompt


def clean_size(size):
    if size is None:
        return "1:1"
    if size not in SIZES:
        raise invalid("size", "size must be one of " + ", ".join(SIZES) + ".")
    return size


def clean_count(n):
    if n is None:
        return 1
    if not is_whole(n) or n not in COUNTS:
        raise invalid("n", "n must be 1, 2 or 4.")
    return n


def split_url(url, param):
    try:
        return urlsplit(url)
    except ValueError:
        raise invalid(param, f"{param} is not a well-formed URL.") from None


def clean_url(url, param):
    if not isinstance(url, str):
        raise invalid(param, f"{param} must be a URL string.")
    parts = split_url(url, param)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise invalid(param, f"{param} must be an http or https URL.")
    if len(url) > MAX_URL:
        raise invalid(param, f"{param} must be at most {MAX_URL} characters long.")
    return url


def clean_image_urls(urls):
    return [clean_url(url, "image_urls") for url in image_url_list(urls)]


def clean_callback_url(url):
    if url is None:
        return None
    if settings.SANDBOX_ALLOW_PRIVATE_URLS:  # local development: plain http on loopback is fine
        return clean_url(url, "callback_url")
    if not isinstance(url, str) or not url.startswith("https://"):
        raise invalid("callback_url", "callback_url must be an HTTPS URL.")
    host = split_url(url, "callback_url").hostname
    if not host:
        raise invalid("callback_url", "callback_url must be an HTTPS URL.")
    if len(url) > MAX_URL:
        raise invalid("callback_url", f"callback_url must be at most {MAX_URL} characters long.")
    if is_internal_host(host):
        raise invalid("callback_url", "callback_url must not point to an internal address.")
    return url


def directives(prompt, n):
    """Sandbox-only switches written into the prompt: fail=CODE, seconds=S, produce=K,
    cancel=REASON (the task ends cancelled with that reason)."""
    found = {"fail_code": None, "seconds": None, "produce": n, "cancel_reason": None}
    for name, value in DIRECTIVE.findall(prompt):
        if name == "fail" and value in FAILURE_MESSAGES:
            found["fail_code"] = value
        elif name == "seconds" and is_number(value) and 0 <= float(value) <= MAX_DIRECTIVE_SECONDS:
            found["seconds"] = float(value)
        elif name == "produce" and value.isdigit():
            found["produce"] = min(int(value), n)
        elif name == "cancel" and value.strip():
            found["cancel_reason"] = value.strip()
        else:
            raise invalid(
                "prompt", f"The sandbox directive [sandbox:{name}={value}] is not understood."
            )
    return found


def is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True

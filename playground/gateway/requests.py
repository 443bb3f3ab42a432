"""A create request checked by the vendor's rules, in the vendor's words where the page has
none: the JSON types first (what the vendor checks and the page's form never sees), then
the page's own form for the values (prompt limit, sizes, counts), so the two never differ."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

from playground.evolink.contract import MAX_CALLBACK_URL, MAX_REFERENCE_IMAGES, MODEL
from playground.generations.forms import GenerationForm, check_callback_url

from .errors import invalid

FORM_FIELDS = ("prompt", "size", "n")


def clean_create(body):
    """{model, prompt, size, n, image_urls, mask_url, callback_url}, or an ApiError naming the field."""
    if not isinstance(body, dict):
        raise invalid(None, "The request body must be a JSON object.", "invalid_json")
    model = body.get("model")
    if model is None:
        raise invalid("model", "model is required.", "missing_parameter")
    if model != MODEL:
        raise invalid("model", f'model must be "{MODEL}".')
    prompt = body.get("prompt")
    if prompt is None:
        raise invalid("prompt", "prompt is required.", "missing_parameter")
    if not isinstance(prompt, str):
        raise invalid("prompt", "prompt must be a string.")
    size = body.get("size", "1:1") if body.get("size") is not None else "1:1"
    if not isinstance(size, str):
        raise invalid("size", "size must be a string.")
    n = body.get("n") if body.get("n") is not None else 1
    if not isinstance(n, int) or isinstance(n, bool):
        raise invalid("n", "n must be 1, 2 or 4.")
    cleaned = form_values({"prompt": prompt, "size": size, "n": n})
    cleaned["model"] = model
    cleaned["image_urls"] = clean_image_urls(body.get("image_urls"))
    cleaned["mask_url"] = clean_mask_url(body.get("mask_url"), cleaned["image_urls"])
    cleaned["callback_url"] = clean_callback_url(body.get("callback_url"))
    return cleaned


def form_values(values):
    form = GenerationForm(data={name: str(value) for name, value in values.items()})
    form.is_valid()
    for name in FORM_FIELDS:
        if name in form.errors:
            raise invalid(name, form.errors[name][0])
    return {name: form.cleaned_data[name] for name in FORM_FIELDS}


def clean_url(url, param):
    if not isinstance(url, str) or not url.strip():
        raise invalid(param, f"{param} must be a URL string.")
    if len(url) > MAX_CALLBACK_URL:
        raise invalid(param, f"{param} must be at most {MAX_CALLBACK_URL} characters long.")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is no port
    except ValueError:
        raise invalid(param, f"{param} is not a well-formed URL.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or not url.isprintable() or " " in url:
        raise invalid(param, f"{param} must be an http or https URL.")
    return url


def clean_image_urls(urls):
    if urls is None:
        return []
    if not isinstance(urls, list):
        raise invalid("image_urls", "image_urls must be a list of URLs.")
    if len(urls) > MAX_REFERENCE_IMAGES:
        raise invalid(
            "image_urls", f"image_urls can hold at most {MAX_REFERENCE_IMAGES} images (it has {len(urls)})."
        )
    return [clean_url(url, "image_urls") for url in urls]


def clean_mask_url(url, image_urls):
    if url is None:
        return None
    url = clean_url(url, "mask_url")
    if len(image_urls) != 1:
        raise invalid("mask_url", "mask_url needs exactly one image in image_urls.")
    return url


def clean_callback_url(url):
    if url is None or url == "":
        return ""
    url = clean_url(url, "callback_url")
    if settings.GATEWAY_ALLOW_PRIVATE_URLS:  # local development: a receiver on this machine
        return url
    try:
        check_callback_url(url)
    except ValidationError as error:
        raise invalid("callback_url", error.messages[0]) from None
    return url

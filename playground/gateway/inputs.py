"""The images a create names, as the team's references: the gateway's own file and result
links (from this team only), or public https links fetched through the guarded fetch and
checked like uploads. Every one is kept as a team reference, as a page upload is."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from playground import outbound
from playground.evolink.contract import MAX_MASK_BYTES, MAX_REFERENCE_BYTES
from playground.generations import images, references
from playground.generations.models import GeneratedImage, Reference

from . import links
from .errors import ApiError, invalid, not_found

FETCH_SECONDS = 20


def fetch(url, max_bytes, param):
    """The bytes at a public https link, through the guarded fetch; an ApiError when refused."""
    try:
        # The whole download ends within FETCH_SECONDS: a link that drips its bytes holds no web thread longer.
        with outbound.client(
            allow_private=settings.GATEWAY_ALLOW_PRIVATE_URLS, timeout=FETCH_SECONDS, deadline=FETCH_SECONDS
        ) as http:
            status, data = outbound.download(http, url, max_bytes)
    except outbound.TooLarge:
        raise ApiError(413, f"{param}: the file is larger than {max_bytes // (1024 * 1024)} MB.", param=param) from None
    except outbound.InternalAddress:
        # Said as a host that does not resolve is: which names lead inside is not the script's to learn.
        raise not_downloaded(param) from None
    except outbound.Refused as exc:
        raise invalid(param, f"{param} could not be used: {exc}") from None
    except Exception:  # httpx's errors: the link could not be read
        raise not_downloaded(param) from None
    if not 200 <= status < 300:
        raise not_downloaded(param, f" (HTTP {status})")
    return data


def not_downloaded(param, detail=""):
    return invalid(param, f"{param} could not be downloaded{detail}.", "image_download_failed")


def name_of(url):
    return urlsplit(url).path.rsplit("/", 1)[-1] or "image"


def own_image(team, user, signed, param):
    """The team's stored image a link of this server names, as a Reference."""
    if signed is None:
        raise invalid(param, f"{param} is a link of this server that is no longer valid: upload the file again.")
    if signed.team_id != team.pk:
        raise not_found(f"{param}: no file of this team has this id.")
    if signed.kind == "file":
        found = Reference.objects.filter(
            team=team, kind=Reference.Kind.IMAGE, public_id=signed.public_id, link_deleted_at__isnull=True
        ).first()
    else:
        images_of_team = GeneratedImage.objects.for_team(team).select_related("generation")
        image = images_of_team.filter(public_id=signed.public_id).first()
        found = image and references.from_result(team, user, image)
    if not found:
        raise not_found(f"{param}: no file of this team has this id.")
    return found


def checked_upload(data, name, param, check):
    try:
        return check(ContentFile(data, name=name))
    except ValidationError as error:
        raise invalid(param, f"{param}: {error.messages[0]}", "invalid_image") from None


def reference(team, user, url, origin, param="image_urls"):
    if links.on_origin(url, origin):
        return own_image(team, user, links.own_link(url), param)
    data = fetch(url, MAX_REFERENCE_BYTES, param)
    return references.store(team, user, checked_upload(data, name_of(url), param, images.check_image))


def mask(team, user, url, origin, reference_image):
    """The mask, checked against the one reference (the page's rules), ready for lifecycle.create."""
    size = (reference_image.width, reference_image.height)
    if links.on_origin(url, origin):
        stored = own_image(team, user, links.own_link(url), "mask_url")
        with default_storage.open(stored.file.name) as opened:
            data = opened.read()
        name = stored.original_name or "mask.png"
    else:
        data = fetch(url, MAX_MASK_BYTES, "mask_url")
        name = name_of(url)
    return checked_upload(data, name, "mask_url", lambda upload: images.check_mask(upload, size))


def resolve(team, user, cleaned, origin):
    """(references, mask) for the create: the images in the order given, and the checked mask or None."""
    chosen = [reference(team, user, url, origin) for url in cleaned["image_urls"]]
    chosen = list(dict.fromkeys(chosen))
    checked_mask = mask(team, user, cleaned["mask_url"], origin, chosen[0]) if cleaned["mask_url"] else None
    return chosen, checked_mask

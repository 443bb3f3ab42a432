"""Facts of the EvoLink GPT-4o Image contract (`evolink-api.md`), shared by the client
and the built-in sandbox so the two can never disagree on them."""

import ipaddress
from urllib.parse import urlsplit

MODEL = "gpt-4o-image"
# In the contract's order: three ratios, then their pixel forms.
SIZES = ("1:1", "2:3", "3:2", "1024x1024", "1024x1536", "1536x1024")
PIXELS = {
    "1:1": (1024, 1024),
    "2:3": (1024, 1536),
    "3:2": (1536, 1024),
    "1024x1024": (1024, 1024),
    "1024x1536": (1024, 1536),
    "1536x1024": (1536, 1024),
}
COUNTS = (1, 2, 4)
MAX_REFERENCE_IMAGES = 5
MAX_CALLBACK_URL = 2048


def is_internal_host(host):
    """True for a host naming an internal place without DNS: localhost, private or loopback IPs.

    The contract refuses such callback URLs. An IPv4 address carried inside an IPv6 one
    (IPv4-mapped, IPv4-compatible, 6to4, NAT64) is unwrapped first.
    """
    host = host.lower().rstrip(".").strip("[]")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    if address.version == 6:
        if address in LOCAL_NAT64:
            return True
        address = _carried_ipv4(address) or address
    return not address.is_global or address.is_multicast


# IPv6 prefixes whose last 32 bits are an IPv4 address: IPv4-compatible, and NAT64's well-known one.
IPV4_CARRIERS = (ipaddress.ip_network("::/96"), ipaddress.ip_network("64:ff9b::/96"))
LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")


def _carried_ipv4(address):
    if address.ipv4_mapped or address.sixtofour:
        return address.ipv4_mapped or address.sixtofour
    if any(address in prefix for prefix in IPV4_CARRIERS):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def public_https_url_problem(url, max_length):
    """What keeps `url` from being a public https:// address, or None when nothing does.

    One of "too_long", "not_https" (also for anything that does not parse as a URL) or
    "internal"; callers turn it into their own sentence.
    """
    if len(url) > max_length:
        return "too_long"
    try:
        parts = urlsplit(url)
        scheme, host = parts.scheme, parts.hostname
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        return "not_https"
    if scheme != "https" or not host:
        return "not_https"
    if is_internal_host(host):
        return "internal"
    return None

"""Log records without the secrets that some URLs carry, nor personal tokens.

An invitation link and a task callback's URL hold a live token in their path, and every
log line that names a request (Django's "Not Found: /invitations/<token>/", the access
lines of runserver and gunicorn) would hand it to whoever reads the logs. This filter cuts
the rest of the path after each secret-bearing prefix from a record's message, its arguments
and its traceback, however the path is spelled: any case, doubled slashes or backslashes,
dot segments, spaces or dots around a segment's name, percent-encoded characters (even twice). No Django imports: gunicorn's configuration uses it too.
"""

import logging
import re

# Paths whose rest is a secret: an invitation's token, a task callback's token, a password reset
# link's user and token, the gateway's signed result and file links.
SECRET_PATH_PREFIXES = ["/invitations/", "/callbacks/evolink/", "/accounts/reset/", "/v1/results/", "/v1/files/"]
MASK = "..."

# A character as a path may spell it: itself, or percent-encoded (%25 is "%" itself, so also twice).
ENCODED = "%(?:25)*{:02x}"
# A separator: a slash or a backslash (which browsers and some servers read as one), however spelled.
SEPARATOR = "(?:[/\\\\]|" + ENCODED.format(ord("/")) + "|" + ENCODED.format(ord("\\")) + ")"
# Characters a segment may carry around its name and still be read as it by someone: dots,
# spaces and control characters, plain or encoded.
JUNK = r"(?:[. \x00-\x1f]|%(?:25)*(?:[01][0-9a-f]|2e|20|7f))"
SEPARATORS = f"(?:{SEPARATOR}{JUNK}*)*{SEPARATOR}"
# Everything after the prefix is secret, to the end of the path: its query or fragment, the white
# space after it in a log line, or a quote that closes it (one followed by the end, a space or
# closing punctuation); a quote inside the path is part of it. Spaces right after the prefix (a
# decoded %20) are part of it too, unless an access line's protocol follows.
SECRET = r"(?:[ \t]+(?!HTTP/))?(?:[^?#\s\"']|[\"'](?![\s,;:)\]}>]|$))+"
# Where a path starts: not inside another segment (so /team/invitations/5 is no invitation link),
# or just after a URL's host.
PATH_START = r"(?<![\w-])|://[^/\s?#\"']*"


def _spelled(text):
    return "".join(f"(?:{re.escape(char)}|{ENCODED.format(ord(char))})" for char in text)


def _prefix_pattern(prefix):
    segments = (JUNK + "*" + _spelled(segment) + JUNK + "*" for segment in prefix.strip("/").split("/"))
    return SEPARATORS + SEPARATORS.join(segments) + SEPARATORS


SECRET_PATHS = re.compile(
    f"(?P<start>{PATH_START})(?P<prefix>{'|'.join(_prefix_pattern(prefix) for prefix in SECRET_PATH_PREFIXES)})"
    f"{SECRET}",
    re.IGNORECASE,
)


# A personal token (playground.teams.tokens) wherever it appears, say in a header or a body a
# log line repeats: its prefix, which the tokens page shows anyway, is kept to tell which one.
PERSONAL_TOKEN = re.compile(r"(?P<prefix>pgt_[A-Za-z0-9_-]{8})[A-Za-z0-9_-]+")


def redact(text):
    """`text` with the rest of every secret-bearing path, and of every personal token, replaced by "..."."""
    text = SECRET_PATHS.sub(lambda found: found["start"] + found["prefix"] + MASK, text)
    return PERSONAL_TOKEN.sub(lambda found: found["prefix"] + MASK, text)


def _redacted_arg(value):
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, (int, float)) or value is None:
        return value  # kept as they are, for %d and the like
    text = str(value)  # a request object, say, shows its path
    cleaned = redact(text)
    return value if cleaned == text else cleaned


class SecretPathsRedacted(logging.Filter):
    """Redacts secret path segments from a record in place (and keeps every record)."""

    def filter(self, record):
        record.msg = _redacted_arg(record.msg)
        if isinstance(record.args, dict):
            record.args = {name: _redacted_arg(value) for name, value in record.args.items()}
        elif isinstance(record.args, tuple):
            record.args = tuple(_redacted_arg(value) for value in record.args)
        self._redact_joined_message(record)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True

    @staticmethod
    def _redact_joined_message(record):
        """A secret split between the format and an argument shows only once they are joined."""
        try:
            message = record.getMessage()
        except (TypeError, ValueError, KeyError):
            return  # a malformed record: logging reports it as it is
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None

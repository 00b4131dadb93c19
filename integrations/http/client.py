"""The guarded HTTP client, kept importable here: the code lives in :mod:`core.httpclient` so that
every layer (messaging fetches media from user-given links too) goes through the same SSRF guard."""

from core.httpclient import (  # noqa: F401 - re-exported for integrations and tests
    REDIRECT_CODES,
    USER_AGENT,
    BadURL,
    HttpResponse,
    ResponseTooLarge,
    TooManyRedirects,
    check_url,
    describe_error,
    request,
)

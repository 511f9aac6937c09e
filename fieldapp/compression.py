"""gzip on the wire: responses out, and request bodies in (reading them is the API's job,
:mod:`fieldapp.api.body`).

A pull page of 285 KB is 38 KB gzipped, which on a village's 4G is the
difference between seconds and a minute. A response is compressed when the
client accepts gzip, its type is text (HTML, JSON, JavaScript, CSS, CSV,
SVG, the manifest) and its body is at least :data:`MIN_BYTES`. Left alone:
HEAD, 204, 206 and 304 answers, bodies already encoded, streamed bodies of
unknown length, and files larger than :data:`MAX_FILE_BYTES` (a file from
``send_file`` is read into memory to be compressed; our static files are tens
of kilobytes). A range request gets the file as it is, so that byte offsets
mean what the client thinks. A compressed file's ETag is made weak (``W/``),
as nginx does: the gzipped and the identity bodies are the same resource,
and a conditional request still answers 304.
"""

from __future__ import annotations

import gzip

from flask import Flask, Request, Response, request

MIN_BYTES = 1024
MAX_FILE_BYTES = 2 * 1024 * 1024
LEVEL = 6
_TEXT_TYPES = frozenset({
    "application/json", "application/javascript", "application/manifest+json", "application/xml",
    "image/svg+xml",
})


def _compressible(mimetype: str | None) -> bool:
    mimetype = mimetype or ""
    return mimetype.startswith("text/") or mimetype in _TEXT_TYPES or mimetype.endswith("+json")


def _accepts_gzip(req: Request) -> bool:
    return req.accept_encodings["gzip"] > 0


def _add_vary(response: Response) -> None:
    if "accept-encoding" not in {value.strip().lower() for value in response.vary}:
        response.vary.add("Accept-Encoding")


def compress(response: Response) -> Response:
    """``response`` gzipped if the request and the response allow it (see the module's note)."""
    if (request.method == "HEAD" or response.status_code in (204, 206, 304) or response.status_code < 200
            or "Content-Encoding" in response.headers or not _compressible(response.mimetype)):
        return response
    length = response.calculate_content_length() if not response.direct_passthrough else response.content_length
    if response.direct_passthrough:  # a file from send_file: its length is known
        if length is None or length > MAX_FILE_BYTES or "Range" in request.headers:
            return response
    elif length is None:  # a generator: streamed on purpose, left as it is
        return response
    if length < MIN_BYTES:
        return response
    _add_vary(response)
    if not _accepts_gzip(request):
        return response
    response.direct_passthrough = False
    body = gzip.compress(response.get_data(), compresslevel=LEVEL, mtime=0)
    response.set_data(body)
    response.headers["Content-Encoding"] = "gzip"
    etag, weak = response.get_etag()
    if etag and not weak:
        response.set_etag(etag, weak=True)
    return response


def init_app(app: Flask) -> None:
    # Registered before the other after_request functions, so it runs after them (Flask runs
    # them in reverse): the body is final and every header is set by then.
    app.after_request(compress)

#!/usr/bin/env python3
# http-fetch: fetches an http(s) URL from a declared host through the sandbox proxy; an example of a network skill.
# Part of Warden's default skill catalog (issue 8, docs/skills-catalog.md). The calling convention (arguments
# as one JSON object on stdin, the workspace as the current directory, the result on stdout, one line on stderr
# on failure) lives in the catalog's shared module .lib/warden_skill.py: the executor mounts that folder read-only
# beside the skill and names it in WARDEN_SKILL_LIB; run from the source tree, the script finds it at ../../.lib.
import json
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the (read-only in the sandbox) catalog folder
sys.path.insert(0, os.environ.get("WARDEN_SKILL_LIB")
                or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".lib"))
from warden_skill import arg, emit, fail, read_args, skill_dir, workspace_path, write_output  # noqa: E402

import socket
import urllib.error
import urllib.parse
import urllib.request

TEXT_TYPES = ("text/", "application/json", "application/xml", "application/xhtml", "application/javascript",
              "application/ld+json", "+json", "+xml")


def declared_hosts():
    """The host:port pairs this skill's own skill.json declares: the skill refuses anything else itself, before
    the sandbox proxy and the policy engine get their say."""
    folder = skill_dir()
    try:
        with open(os.path.join(folder, "skill.json")) as f:
            return {h.lower() for h in json.load(f)["permissions"]["hosts"]}
    except (OSError, ValueError, KeyError, TypeError) as e:
        fail("cannot read the declared hosts from %s/skill.json: %s" % (folder, e))


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # redirects are reported, not followed: the target may be a host nobody approved


def main():
    args = read_args()
    url = arg(args, "url", "string")
    method = arg(args, "method", "string", "GET", choices=["GET", "HEAD"])
    headers = arg(args, "headers", "object", {})
    max_bytes = arg(args, "max_bytes", "integer", 1048576, minimum=1, maximum=16 * 1048576)
    timeout = arg(args, "timeout_s", "number", 8, minimum=1, maximum=25)
    if args.get("output") is not None:
        workspace_path(arg(args, "output", "string"), "output")  # refuse a bad destination before any traffic
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as e:
        fail("argument 'url': cannot parse %r: %s" % (url, e), 2)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        fail("argument 'url': only http:// and https:// URLs with a host are fetched, got %r" % url, 2)
    if parts.username or parts.password:
        fail("argument 'url': credentials in the URL are refused; pass an Authorization header instead", 2)
    host = parts.hostname.lower()
    port = port or (443 if parts.scheme == "https" else 80)
    allowed = declared_hosts()
    if "%s:%d" % (host, port) not in allowed:
        fail("host %s:%d is not among this skill's declared hosts (%s); add it to skill.json permissions.hosts and to "
             "the policy" % (host, port, ", ".join(sorted(allowed))), 3)
    for k, v in headers.items():
        if not isinstance(v, str) or "\n" in k + v or "\r" in k + v:
            fail("argument 'headers': %r must map to a one-line string" % k, 2)
    req = urllib.request.Request(url, method=method, headers=dict({"User-Agent": "warden-http-fetch/1.0"}, **headers))
    opener = urllib.request.build_opener(NoRedirect)  # the default ProxyHandler uses HTTP(S)_PROXY set by the sandbox
    try:
        resp = opener.open(req, timeout=timeout)
    except urllib.error.HTTPError as e:
        resp = e  # 4xx/5xx (and unfollowed 3xx) are answers: report them with their body
    except urllib.error.URLError as e:
        fail("cannot reach %s:%d: %s (the sandbox allows only hosts the policy approved)" % (host, port, e.reason))
    except (socket.timeout, TimeoutError):
        fail("no answer from %s:%d within %s s" % (host, port, timeout))
    except OSError as e:
        fail("connection to %s:%d failed: %s" % (host, port, e))
    with resp:
        body = resp.read(max_bytes + 1) if method == "GET" else b""
    truncated = len(body) > max_bytes
    body = body[:max_bytes]
    ctype = resp.headers.get("Content-Type", "")
    result = {"url": url, "status": resp.status if hasattr(resp, "status") else resp.code,
              "headers": {k.lower(): v for k, v in resp.headers.items()}, "bytes": len(body), "truncated": truncated}
    if result["status"] in (301, 302, 303, 307, 308):
        result["redirect_to"] = resp.headers.get("Location")
    written = write_output(args, body)
    if written:
        result["written"] = written
    elif body:
        charset = resp.headers.get_content_charset() or "utf-8"
        if any(t in ctype for t in TEXT_TYPES) or not ctype:
            try:
                result["text"] = body.decode(charset, errors="replace")
            except LookupError:
                result["text"] = body.decode("utf-8", errors="replace")  # a server naming a charset Python lacks
        else:
            result["note"] = "binary body (%s) not shown; give 'output' to save it" % (ctype or "unknown type")
    emit(result)


main()

#!/usr/bin/env python3
# http-fetch: fetches an http(s) URL from a declared host through the sandbox proxy; an example of a network skill.
# Part of Warden's default skill catalog (issue 8, docs/skills-catalog.md). Calling convention: the
# arguments arrive as one JSON object on stdin, the workspace is the current directory, the result goes to
# stdout; failures exit non-zero with one line on stderr. The helpers below are repeated in every skill on
# purpose: a skill runs alone in the sandbox and can read only its own folder.
import json
import os
import sys

SKILL = 'http-fetch'

_REQUIRED = object()
MAX_INPUT_BYTES = 64 * 1024 * 1024  # larger inputs would not fit the default 256 MB memory limit once decoded


def fail(message, code=1):
    """One line on stderr, non-zero exit: 2 = bad arguments, 1 = the work itself failed."""
    sys.stderr.write("%s: %s\n" % (SKILL, " ".join(str(message).split())))
    sys.exit(code)


def read_args():
    try:
        raw = sys.stdin.buffer.read().decode("utf-8")
    except UnicodeDecodeError as e:
        fail("arguments on stdin are not UTF-8 (%s); send one JSON object" % e, 2)
    if not raw.strip():
        return {}
    try:
        args = json.loads(raw)
    except ValueError as e:
        fail("arguments on stdin are not valid JSON (%s); send one JSON object" % e, 2)
    if not isinstance(args, dict):
        fail("arguments must be one JSON object, got %s" % type(args).__name__, 2)
    return args


_KINDS = {"string": str, "integer": int, "number": (int, float), "boolean": bool, "array": list, "object": dict}


def arg(args, key, kind, default=_REQUIRED, choices=None, minimum=None, maximum=None):
    """The argument `key` checked against its JSON type, enum and bounds (the executor validates too; a direct
    call must not be able to slip past)."""
    if key not in args or args[key] is None:
        if default is _REQUIRED:
            fail("missing required argument %r" % key, 2)
        return default
    value = args[key]
    ok = isinstance(value, _KINDS[kind]) and not (kind in ("integer", "number") and isinstance(value, bool))
    if not ok:
        fail("argument %r must be a %s, got %s" % (key, kind, json.dumps(value)[:60]), 2)
    if choices is not None and value not in choices:
        fail("argument %r must be one of %s, got %s" % (key, "|".join(map(str, choices)), json.dumps(value)[:60]), 2)
    if minimum is not None and value < minimum:
        fail("argument %r must be >= %s, got %s" % (key, minimum, value), 2)
    if maximum is not None and value > maximum:
        fail("argument %r must be <= %s, got %s" % (key, maximum, value), 2)
    return value


def workspace_path(value, field, must_exist=False, kind=None):
    """Resolves a workspace-relative path, following symlinks, and refuses anything that ends up outside the
    workspace (the current directory): absolute paths, `..` that climbs out, symlinks pointing away."""
    if not isinstance(value, str) or value == "":
        fail("argument %r must be a non-empty relative path" % field, 2)
    if "\0" in value:
        fail("argument %r contains a NUL byte" % field, 2)
    if os.path.isabs(value):
        fail("argument %r: absolute path %r refused; give a path relative to the workspace" % (field, value), 2)
    root = os.path.realpath(os.getcwd())
    full = os.path.realpath(os.path.join(root, value))
    if full != root and not full.startswith(root + os.sep):
        fail("argument %r: path %r leaves the workspace; use a path inside it" % (field, value), 2)
    if must_exist and not os.path.exists(full):
        fail("argument %r: %r does not exist in the workspace" % (field, value), 1)
    if kind == "file" and os.path.exists(full) and not os.path.isfile(full):
        fail("argument %r: %r is not a regular file" % (field, value), 1)
    if kind == "dir" and os.path.exists(full) and not os.path.isdir(full):
        fail("argument %r: %r is not a folder" % (field, value), 1)
    return full


def relative(full):
    """A path as the caller should see it: relative to the workspace."""
    rel = os.path.relpath(full, os.path.realpath(os.getcwd()))
    return "." if rel == "." else rel


def read_bytes(full, field):
    try:
        size = os.path.getsize(full)
        if size > MAX_INPUT_BYTES:
            fail("argument %r: %r is %d bytes, more than the %d this skill reads" % (field, relative(full), size, MAX_INPUT_BYTES))
        with open(full, "rb") as f:
            return f.read()
    except OSError as e:
        fail("cannot read %r: %s" % (relative(full), e.strerror))


def read_text(full, field, encoding="utf-8"):
    data = read_bytes(full, field)
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as e:
        fail("%r is not valid %s text (%s); convert it first with encoding-convert" % (relative(full), encoding, e))


def text_input(args, text_key="text", path_key="path"):
    """Inline `text` or the contents of the workspace file `path`: exactly one of them."""
    has_text, has_path = args.get(text_key) is not None, args.get(path_key) is not None
    if has_text == has_path:
        fail("give exactly one of %r (inline text) or %r (a file in the workspace)" % (text_key, path_key), 2)
    if has_text:
        return arg(args, text_key, "string")
    return read_text(workspace_path(arg(args, path_key, "string"), path_key, must_exist=True, kind="file"), path_key)


def write_output(args, content, key="output"):
    """Writes `content` (str or bytes) to the workspace file args[key], creating parent folders; returns its
    relative path, or None when the argument is absent."""
    if args.get(key) is None:
        return None
    full = workspace_path(arg(args, key, "string"), key)
    if os.path.isdir(full):
        fail("argument %r: %r is a folder; give a file name" % (key, relative(full)), 2)
    try:
        os.makedirs(os.path.dirname(full), exist_ok=True)
        data = content.encode("utf-8") if isinstance(content, str) else content
        tmp = full + ".partial"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, full)
    except OSError as e:
        fail("cannot write %r: %s" % (relative(full), e.strerror))
    return relative(full)


def output_limit_bytes():
    """limits.output_kb from this skill's own skill.json (default 1024): the executor cuts stdout there, and a cut
    JSON document is worse than a clear error."""
    folder = os.environ.get("WARDEN_SKILL_DIR") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        with open(os.path.join(folder, "skill.json")) as f:
            return int(json.load(f).get("limits", {}).get("output_kb", 1024)) * 1024
    except (OSError, ValueError, TypeError, AttributeError):
        return 1024 * 1024


def emit(value, text=None):
    out = (json.dumps(value, ensure_ascii=False) if text is None else text) + "\n"
    size, limit = len(out.encode("utf-8")), output_limit_bytes()
    if size > limit:
        fail("the result is %d KB, over this skill's output limit of %d KB; give 'output' to write it to a file in the "
             "workspace, or narrow the request (a limit, a filter, a page range)" % ((size + 1023) // 1024, limit // 1024))
    sys.stdout.write(out)


# --- the skill ---
import socket
import urllib.error
import urllib.parse
import urllib.request

TEXT_TYPES = ("text/", "application/json", "application/xml", "application/xhtml", "application/javascript",
              "application/ld+json", "+json", "+xml")


def declared_hosts():
    """The host:port pairs this skill's own skill.json declares: the skill refuses anything else itself, before
    the sandbox proxy and the policy engine get their say."""
    folder = os.environ.get("WARDEN_SKILL_DIR") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
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

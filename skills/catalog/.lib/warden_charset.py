# warden_charset: guessing the character set of a text (its encoding), byte-order mark and line endings, for
# encoding-detect and encoding-convert. Part of Warden's default skill catalog (docs/skills-catalog.md, "Shared
# code: .lib").

BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be"),
        (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


def detect(data):
    """(encoding, confidence, has_bom, is_binary) from the bytes alone: BOMs, the NUL pattern of UTF-16 without a
    BOM, a strict UTF-8 decode, then the single-byte Windows/ISO Latin family."""
    for bom, name in BOMS:
        if data.startswith(bom):
            return name, "high", True, False
    if not data:
        return "ascii", "high", False, False
    sample = data[:65536]
    nul = sample.count(b"\x00")
    if nul:
        even, odd = sample[0::2].count(b"\x00"), sample[1::2].count(b"\x00")
        if odd > len(sample) // 4 and even == 0:
            return "utf-16-le", "medium", False, False
        if even > len(sample) // 4 and odd == 0:
            return "utf-16-be", "medium", False, False
        return None, "high", False, True
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13, 27))
    if controls > len(sample) // 20:
        return None, "medium", False, True
    if all(b < 128 for b in sample):
        return "ascii", "high", False, False
    try:
        data.decode("utf-8")
        return "utf-8", "high", False, False
    except UnicodeDecodeError:
        pass
    # 0x80-0x9F are C1 controls in ISO-8859-1 but punctuation (curly quotes, dashes, euro) in cp1252.
    if any(0x80 <= b <= 0x9F for b in sample):
        try:
            data.decode("cp1252")
            return "cp1252", "medium", False, False
        except UnicodeDecodeError:
            pass
    return "iso-8859-1", "low", False, False


def line_endings(text):
    crlf = text.count("\r\n")
    lf, cr = text.count("\n") - crlf, text.count("\r") - crlf
    kinds = [k for k, n in (("crlf", crlf), ("lf", lf), ("cr", cr)) if n]
    return "none" if not kinds else kinds[0] if len(kinds) == 1 else "mixed"

# warden_csv: CSV tables read and written the same way by csv-to-json, csv-aggregate, csv-describe and csv-query.
# Part of Warden's default skill catalog (docs/skills-catalog.md, "Shared code: .lib").
import csv
import io

from warden_skill import arg, fail, text_input


def number(text):
    """The cell as a float, or None when it is not a number (NaN included)."""
    try:
        v = float(text)
    except (TypeError, ValueError):
        return None
    return v if v == v else None


def read_rows(args):
    """The CSV from `text` or `path` as (non-empty rows as lists of strings, delimiter). The `delimiter` argument
    is one character; empty or absent, it is sniffed among , ; tab and |, falling back to a comma."""
    text = text_input(args)
    delimiter = arg(args, "delimiter", "string", "")
    if len(delimiter) > 1:
        fail("argument 'delimiter' must be one character, got %r" % delimiter, 2)
    if not delimiter:
        try:
            delimiter = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    try:
        rows = [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True) if r]
    except csv.Error as e:
        fail("not valid CSV: %s" % e)
    return rows, delimiter


def load_table(args):
    """The CSV from `text` or `path` as (columns, rows as dicts of strings, delimiter); short rows are padded."""
    raw, delimiter = read_rows(args)
    if not raw:
        fail("the CSV is empty: no header row")
    columns = [c.strip() for c in raw[0]]
    rows = []
    for r in raw[1:]:
        r = r + [""] * (len(columns) - len(r))
        rows.append(dict(zip(columns, r)))
    return columns, rows, delimiter


def table_csv(columns, rows, delimiter):
    """The rows (dicts) as CSV text with a header line; None cells are empty."""
    out = io.StringIO()
    w = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow(["" if r.get(c) is None else r.get(c) for c in columns])
    return out.getvalue()


def check_column(columns, name, field):
    """Fails (bad arguments) when argument `field` names a column the table does not have."""
    if name not in columns:
        fail("argument %r: no column %r; the columns are %s" % (field, name, ", ".join(columns)), 2)

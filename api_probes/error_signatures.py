"""What an error body must never disclose: stack traces in any language, database and ORM error text, the
failing SQL statement, and server file paths. Each signature has a name that is reported as evidence."""

from __future__ import annotations

import re

SIGNATURES: tuple[tuple[str, re.Pattern[str]], ...] = tuple((name, re.compile(rx, re.I if ci else 0)) for name, rx, ci in (
    # stack traces
    ("python traceback", r"Traceback \(most recent call last\)|File \"[^\"]+\", line \d+", False),
    ("java stack trace", r"Exception in thread|\bat (?:java|javax|jdk|sun|org|com|io|net)\.[\w$.]+\([\w$.]*(?::\d+)?\)", False),
    (".NET stack trace", r"\bat [\w.<>`]+\(.*\) in .+:line \d+|System\.\w+Exception|Microsoft\.AspNetCore\.", False),
    ("node stack trace", r"\bat .+\((?:/|[A-Za-z]:\\)[^)]+\.(?:js|mjs|ts):\d+:\d+\)|node_modules/", False),
    ("php error", r"PHP (?:Fatal|Parse|Warning)|Stack trace:\s*#0|\bon line \d+\b", False),
    ("ruby backtrace", r"\.rb:\d+:in `", False),
    ("go panic", r"goroutine \d+ \[running\]|^panic: ", False),
    # databases
    ("postgresql error", r"psycopg2?\.|PG::\w+|org\.postgresql|\bpq: |(?:ERROR:\s+)?(?:syntax error at or near|"
                         r"invalid input syntax for(?: type)?|relation \"[^\"]+\" does not exist|"
                         r"column \"[^\"]+\" does not exist|duplicate key value violates)|(?m:^LINE \d+:)|"
                         r"SQLSTATE\[?\w*\]?", False),
    ("mysql error", r"You have an error in your SQL syntax|MySQLSyntaxErrorException|com\.mysql\.|mysqli?_\w+\(|"
                    r"\bER_[A-Z_]{4,}\b|MariaDB server version", False),
    ("sqlite error", r"sqlite3\.\w*Error|SQLITE_(?:ERROR|CONSTRAINT|MISMATCH)|near \"[^\"]*\": syntax error", False),
    ("oracle error", r"\bORA-\d{5}\b|oracle\.jdbc", False),
    ("sql server error", r"Unclosed quotation mark after the character string|Microsoft (?:OLE DB|SQL Server|ODBC)|"
                         r"SqlException|\bMsg \d+, Level \d+, State \d+", False),
    ("orm error", r"sqlalchemy\.exc|SequelizeDatabaseError|org\.hibernate|ActiveRecord::\w+|django\.db\.utils|"
                  r"PrismaClient\w*Error|TypeORMError|QueryFailedError", False),
    ("sql statement", r"\b(?:SELECT\s+[\w*,.\s\"`()]+?\s+FROM\s+[\w.\"`]+|INSERT\s+INTO\s+[\w.\"`]+|"
                      r"UPDATE\s+[\w.\"`]+\s+SET\s|DELETE\s+FROM\s+[\w.\"`]+)", True),
    # server paths
    ("server file path", r"(?:/(?:usr|var|srv|opt|home|app|root|www)/[\w./-]+\.(?:py|java|js|ts|rb|php|go|cs|jsp)\b)|"
                         r"[A-Za-z]:\\(?:[\w .-]+\\)+[\w .-]+\.(?:cs|java|py|php|js)\b", False),
))


def readable(body: str) -> str:
    """The body as a client reads it: a JSON answer decoded (its strings joined, so an escaped "\\n" or a
    message nested in ``detail`` is the text it stands for), anything else as it is."""
    import json

    try:
        doc = json.loads(body)
    except ValueError:
        return body
    parts: list[str] = []

    def walk(v: object) -> None:
        if isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
        elif isinstance(v, str):
            parts.append(v)

    walk(doc)
    return "\n".join(parts) if parts else body


def disclosures(text: str) -> list[str]:
    """Names of the signatures found in ``text`` (a JSON body is read decoded, as a client would)."""
    text = readable(text)
    return [name for name, rx in SIGNATURES if rx.search(text)]

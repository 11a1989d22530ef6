"""``python -m tutela.scanner.catalog``: remake ``parsed.json`` after a catalogue YAML changed."""

from tutela.scanner.catalog.shipped import PARSED, catalog_directory, make_parsed

target = catalog_directory() / PARSED
target.write_bytes(make_parsed())
print(f"wrote {target}")

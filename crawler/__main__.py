from crawler.tls import without_default_ca_file

with without_default_ca_file():  # aiohttp's import-time contexts, never used (crawler/tls.py)
    from crawler.server import run

run()

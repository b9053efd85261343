from crawler.server import run

run()

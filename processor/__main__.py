from processor.server import run

run()

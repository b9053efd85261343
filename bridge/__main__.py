from bridge.server import run

run()

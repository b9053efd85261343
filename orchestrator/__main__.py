from orchestrator.server import run

run()

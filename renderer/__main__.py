"""The renderer service: renders one URL in headless Chromium and returns the page and its links."""
from renderer.server import run

run()

"""The processor service: HTML to Markdown (main content only), and the page store."""

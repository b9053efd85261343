"""The crawler service: fetches one URL and returns the page and its links. Stateless."""

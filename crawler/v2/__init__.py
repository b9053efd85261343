"""The docspasta.v2 API of the crawler: message conversion (convert.py) and the servicer
(service.py) over the one implementation the v1 servicer runs."""

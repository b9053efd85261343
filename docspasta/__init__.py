"""Docspasta's shared package: the generated gRPC contract (``docspasta.v1``) and the
small pieces every service uses (URL rules, RPC plumbing, settings, event JSON)."""

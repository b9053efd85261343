"""Webhook delivery (issue 18): a job's lifecycle events become signed POSTs. The
messages are written to the job store's outbox in the commit of the event they
announce (``messages.py``), and any replica's dispatcher (``dispatcher.py``) claims
and delivers them beside the crawl, at least once, under the crawler's egress policy."""

"""Standard Webhooks signing: our signatures verify with the README's snippet and with
the reference library, and anything altered does not."""

from __future__ import annotations

import time

import pytest
from standardwebhooks import Webhook as ReferenceWebhook

from docspasta.webhooks import InvalidSignature, new_secret, secret_key, sign_headers, signature, verify
from tests.webhooks.conftest import readme_verifier

# The specification's published example (standard-webhooks/standard-webhooks, spec/).
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_specification_example() -> None:
    assert signature(secret_key(SPEC_SECRET), SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE


def test_signed_headers_verify_with_the_readme_snippet_and_the_reference_library() -> None:
    secret = new_secret()
    body = b'{"type":"job.completed","data":{"job_id":"j"}}'
    headers = sign_headers([secret_key(secret)], "msg_j_9_5", body)
    readme_verifier()(secret, headers, body)
    verify(secret, headers, body)
    assert ReferenceWebhook(secret).verify(body, headers) == {"type": "job.completed", "data": {"job_id": "j"}}


@pytest.mark.parametrize("change", ["body", "secret", "id", "timestamp", "stale"])
def test_anything_altered_is_refused(change: str) -> None:
    secret, body = new_secret(), b'{"a":1}'
    stamp = int(time.time()) - (1000 if change == "stale" else 0)
    headers = sign_headers([secret_key(secret)], "msg_1", body, timestamp=stamp)
    if change == "body":
        body = b'{"a":2}'
    elif change == "secret":
        secret = new_secret()
    elif change == "id":
        headers["webhook-id"] = "msg_2"
    elif change == "timestamp":
        headers["webhook-timestamp"] = str(stamp + 1)
    with pytest.raises(ValueError):
        readme_verifier()(secret, headers, body)
    with pytest.raises(InvalidSignature):
        verify(secret, headers, body)


def test_a_rotating_deployment_signs_with_every_secret() -> None:
    old, new = new_secret(), new_secret()
    body = b"{}"
    headers = sign_headers([secret_key(old), secret_key(new)], "msg_r", body)
    assert len(headers["webhook-signature"].split()) == 2
    for secret in (old, new):
        readme_verifier()(secret, headers, body)
        ReferenceWebhook(secret).verify(body, headers)


@pytest.mark.parametrize("bad", ["", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_???", "whsec_" + "QUFB" * 2,
                                 "whsec_" + "QUFB" * 30])
def test_secrets_must_be_whsec_base64_of_24_to_64_bytes(bad: str) -> None:
    with pytest.raises(ValueError):
        secret_key(bad)

"""Rotating the webhook secret (WEBHOOK_PREVIOUS_SECRET accepted beside WEBHOOK_SECRET), and
what the logs never contain: secrets, signatures, message text, customer names."""

from __future__ import annotations

import json
import logging
import time

import pytest
from django.db import OperationalError, connection
from django.test import Client, override_settings

from assignment.models import Message
from assignment.signatures import WebhookSecret
from chatassist.logging import JsonFormatter
from tests.conftest import TEST_SECRET, WEBHOOK_URL

pytestmark = pytest.mark.django_db

NEW_SECRET = "whsec_" + "TmV3U2VjcmV0Rm9yUm90YXRpb24xMjM0NTY3OA=="
OTHER_SECRET = "whsec_" + "U29tZW9uZUVsc2VzU2VjcmV0MTIzNDU2Nzg5MA=="


def deliver(client: Client, payload: dict, *, signed_with: str, msg_id: str = "evt-1"):
    body = json.dumps(payload).encode()
    stamp = int(time.time())
    signature = WebhookSecret.parse(signed_with).sign(msg_id=msg_id, timestamp=stamp, body=body)
    return client.post(
        WEBHOOK_URL,
        data=body,
        content_type="application/json",
        HTTP_WEBHOOK_ID=msg_id,
        HTTP_WEBHOOK_TIMESTAMP=str(stamp),
        HTTP_WEBHOOK_SIGNATURE=signature,
    )


@override_settings(WEBHOOK_SECRET=NEW_SECRET, WEBHOOK_PREVIOUS_SECRET=TEST_SECRET)
def test_during_a_rotation_both_secrets_are_accepted_and_no_other(client, auto_assign_on):
    with_new = deliver(client, {"message_id": "m-new", "customer_id": "c1"}, signed_with=NEW_SECRET)
    with_old = deliver(
        client, {"message_id": "m-old", "customer_id": "c2"}, signed_with=TEST_SECRET
    )
    with_other = deliver(
        client, {"message_id": "m-x", "customer_id": "c-3"}, signed_with=OTHER_SECRET
    )

    assert (with_new.status_code, with_old.status_code, with_other.status_code) == (201, 201, 401)
    assert set(Message.objects.values_list("message_id", flat=True)) == {"m-new", "m-old"}


@override_settings(WEBHOOK_SECRET=NEW_SECRET, WEBHOOK_PREVIOUS_SECRET="")
def test_after_the_rotation_the_previous_secret_is_refused(client, auto_assign_on):
    response = deliver(
        client, {"message_id": "m-old", "customer_id": "c2"}, signed_with=TEST_SECRET
    )

    assert response.status_code == 401
    assert not Message.objects.exists()


@override_settings(WEBHOOK_SECRET=NEW_SECRET, WEBHOOK_PREVIOUS_SECRET="whsec_!!!")
def test_a_malformed_previous_secret_is_a_503_not_configured(client, auto_assign_on):
    response = deliver(client, {"message_id": "m-1", "customer_id": "c-1"}, signed_with=NEW_SECRET)

    assert response.status_code == 503 and response["Retry-After"] == "60"
    assert "WEBHOOK_PREVIOUS_SECRET" in response.json()["error"]


# --- Logs ---------------------------------------------------------------------------------------

PRIVATE_TEXT = "my card number is 4111-1111"
PRIVATE_NAME = "Ms Very Private"


def everything_logged(caplog) -> str:
    formatter = JsonFormatter()
    return "\n".join(formatter.format(record) for record in caplog.records)


def secret_parts() -> list[str]:
    return [TEST_SECRET, TEST_SECRET.removeprefix("whsec_")]


@pytest.mark.parametrize("failing", [False, True])
def test_no_log_line_carries_the_secret_the_signature_or_the_message(
    client, auto_assign_on, caplog, failing
):
    caplog.set_level(logging.DEBUG)
    payload = {
        "message_id": "m-1",
        "customer_id": "c-1",
        "customer_name": PRIVATE_NAME,
        "text": PRIVATE_TEXT,
    }

    def unavailable(execute, sql, params, many, context):
        raise OperationalError("the database is down")

    if failing:  # the 503 path logs a traceback: still nothing private in it
        with connection.execute_wrapper(unavailable):
            response = deliver(client, payload, signed_with=TEST_SECRET)
    else:
        response = deliver(client, payload, signed_with=TEST_SECRET)
    unsigned = client.post(WEBHOOK_URL, data=json.dumps(payload), content_type="application/json")

    assert response.status_code == (503 if failing else 201)
    assert unsigned.status_code == 401
    logged = everything_logged(caplog)
    assert "m-1" in logged  # the delivery was logged, by its id
    for private in [PRIVATE_TEXT, PRIVATE_NAME, *secret_parts(), "v1,"]:
        assert private not in logged

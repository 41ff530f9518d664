"""The deliveries one run sends: signed before the clock starts, split between senders.

Each sender's list is a repeating pattern of 10: 7 new customers, 2 follow-up messages to
a session this sender opened earlier, 1 redelivery of a request this sender already made
(the same bytes: same webhook-id, timestamp, signature and body). A follow-up or a
redelivery only ever refers to an earlier request of the same sender, whose answer has
therefore arrived: the expected status of every request is known (201, 201, 200).
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from assignment.signatures import WebhookSecret
from bench.loadgen import build_request

PATH = "/webhooks/messages/"
PATTERN = ("new", "new", "follow_up", "new", "new", "redelivery", "new", "follow_up", "new", "new")
EXPECTED_STATUS = {"new": 201, "follow_up": 201, "redelivery": 200}


@dataclass(frozen=True)
class Workload:
    plans: list[list[bytes]]
    kinds: Counter
    expected_statuses: Counter


def build_workload(
    *, secret: WebhookSecret, host: str, port: int, senders: int, total: int, prefix: str
) -> Workload:
    rng = random.Random(f"{prefix}-{senders}-{total}")
    timestamp = int(time.time())
    sent_at = datetime.now(UTC).isoformat(timespec="seconds")
    plans: list[list[bytes]] = []
    kinds: Counter = Counter()
    for sender in range(senders):
        count = total // senders + (1 if sender < total % senders else 0)
        customers: list[str] = []
        plan: list[bytes] = []
        for index in range(count):
            kind = PATTERN[index % len(PATTERN)]
            if kind == "redelivery":
                plan.append(rng.choice(plan))
            else:
                message_id = f"{prefix}-s{sender}-m{index}"
                if kind == "new":
                    customers.append(f"{prefix}-s{sender}-c{index}")
                    payload = {
                        "message_id": message_id,
                        "customer_id": customers[-1],
                        "customer_name": f"Customer {sender}-{index}",
                        "text": "Hello! Where is my order?",
                        "sent_at": sent_at,
                    }
                else:
                    payload = {
                        "message_id": message_id,
                        "customer_id": rng.choice(customers),
                        "text": "Any news?",
                    }
                plan.append(_signed(secret, host, port, payload, timestamp))
            kinds[kind] += 1
        plans.append(plan)
    expected = Counter()
    for kind, count in kinds.items():
        expected[EXPECTED_STATUS[kind]] += count
    return Workload(plans, kinds, expected)


def _signed(secret: WebhookSecret, host: str, port: int, payload: dict, timestamp: int) -> bytes:
    body = json.dumps(payload, separators=(",", ":")).encode()
    msg_id = f"evt-{payload['message_id']}"
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": secret.sign(msg_id=msg_id, timestamp=timestamp, body=body),
    }
    return build_request(host=host, port=port, path=PATH, body=body, headers=headers)

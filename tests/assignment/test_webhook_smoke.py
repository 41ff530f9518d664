import pytest

pytestmark = pytest.mark.django_db


def test_first_message_is_assigned_to_first_staff(post_message, cast, auto_assign_on):
    response = post_message({"message_id": "m-1", "customer_id": "c-1"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["session"]["assignment"] == "assigned"
    assert body["session"]["assigned_to"]["email"] == "alice@example.com"

"""Names people write for a person's phone and account (platform columns, JSON fields, CAN signals) classify as
a person's contact or account, not as a device's id; device serials stay devices; a phone's call state is no
phone number."""

from __future__ import annotations

import pytest

from vehicle_ds import Classifier, Field, load_policy

CLF = Classifier(load_policy())


@pytest.mark.parametrize("name", ["phone_number", "phoneNumber", "PhoneNo", "telephone", "tel_no", "mobile",
                                  "user_id", "UserId", "account_id", "accountNo", "customer_id", "driver_id",
                                  "member_id", "owner_phone"])
def test_a_persons_phone_or_account_is_a_personal_contact(name):
    c = CLF.classify(Field(name, ""))
    assert c.rule == "identifier.personal_contact", (name, c.rule)


@pytest.mark.parametrize("name", ["serial_number", "device_id", "SensorId", "TPMS_ID", "imei", "ECU_SerialNum"])
def test_a_devices_identifier_stays_a_device(name):
    assert CLF.classify(Field(name, "")).rule == "identifier.device", name


@pytest.mark.parametrize("name", ["PhoneCallActive", "BT_PhoneNumCnt", "PhoneChargingSts", "PhoneKeyStatus"])
def test_a_phones_state_is_not_a_phone_number(name):
    assert CLF.classify(Field(name, "")).rule != "identifier.personal_contact", name

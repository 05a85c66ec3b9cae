"""The one registry of personal-data detectors: valid values are found however they are written, by every
consumer; digests and tokens never hold an identifier; whatever a detector finds, masking hides."""

from __future__ import annotations

import base64
import hashlib
import random

from hypothesis import given
from hypothesis import strategies as st

from api_probes.detectors import findings
from vehicle_ds.discovery import sample_platform as sp
from vehicle_ds.discovery.detectors import scan_values
from vehicle_ds.evidence.detectors import BY_ID, DETECTORS, luhn, plate_valid, vin_valid
from vehicle_ds.evidence.masking import Masker

MASKER = Masker(b"k" * 32)
DIGIT_RUNS = ("cn_resident_id", "bank_card", "iccid", "imei", "mobile", "landline", "vin")


def _values(r: random.Random) -> dict[str, list[str]]:
    """Each detector's valid value, in every way people write it."""
    mobile = f"1{r.choice('3456789')}{r.randrange(10**9):09d}"
    card = sp.luhn_complete("622848", 19, r)
    card16 = sp.luhn_complete("4", 16, r)
    plate = f"京A{r.randrange(10**5):05d}"
    return {"cn_resident_id": [sp.cn_id(r)], "vin": [sp.vin(r)], "imei": [sp.luhn_complete("35", 15, r)],
            "iccid": [sp.luhn_complete("8986", 20, r)],
            "bank_card": [card, card16, " ".join(card16[i:i + 4] for i in range(0, 16, 4))],
            "mobile": [mobile, "+86" + mobile, "0086" + mobile, "+86 " + mobile, "86-" + mobile],
            "plate": [plate, plate[:2] + "·" + plate[2:], plate[:2] + " " + plate[2:], "粤BD" + "12345"[: 4] + "8"],
            "email": [f"user{r.randrange(1000)}@example.com"]}


def test_a_wrong_check_digit_is_not_a_vin_and_a_valid_one_is():
    assert vin_valid("LFV3A23C0N0001001") and vin_valid("1M8GDM9AXKP042788")
    assert not vin_valid("LFV3A23C5N0001001") and not vin_valid("12345678901234567")
    assert plate_valid("京A·12345") and plate_valid("京AD12345") and not plate_valid("京A1234")
    assert luhn("4111 1111 1111 1111") and not luhn("4111111111111112")


@given(st.randoms(use_true_random=False))
def test_a_value_written_any_accepted_way_is_found_by_every_consumer(r):
    for kind, forms in _values(r).items():
        for text in forms:
            sentence = f"联系：{text}，谢谢"
            assert BY_ID[kind].finds(sentence), (kind, text)
            assert (scan_values([sentence]).hits or {}).get(kind) == 1, (kind, text)
            assert kind in {f["kind"] for f in findings({"note": text})}, (kind, text)


@given(st.randoms(use_true_random=False))
def test_whatever_a_detector_finds_masking_hides(r):
    for kind, forms in _values(r).items():
        for text in forms:
            masked = MASKER.text(f"value={text}; again [{text}]")
            assert text not in masked, (kind, masked)
            assert not any(d.finds(masked) for d in DETECTORS if d.decisive), (kind, masked)


@given(st.binary(min_size=1, max_size=64), st.integers(4, 64))
def test_digests_and_tokens_never_hold_an_identifier(data, cut):
    """A sha256 digest can hold fifteen Luhn-valid decimal digits in a row: that is not an IMEI."""
    digest = hashlib.sha256(data).hexdigest()
    tokens = [digest, digest.upper(), digest[:cut] + "…", base64.b64encode(hashlib.sha512(data).digest()).decode(),
              base64.urlsafe_b64encode(hashlib.sha256(data).digest()).decode(), "0x" + digest]
    for tok in tokens:
        text = f'{{"sha256": "{tok}", "path": "a/{tok}/b"}}'
        hits = {k: v for k, v in (scan_values([text]).hits or {}).items() if k in DIGIT_RUNS}
        assert not hits, (tok, hits)
        assert MASKER.text(text) == text


def test_the_digest_that_once_read_as_an_imei_does_not():
    digest = "9c2e473800929134840fbd"  # a decimal run inside hex that passes the Luhn check
    assert luhn("473800929134840")
    assert not BY_ID["imei"].finds(digest) and not BY_ID["imei"].finds("473800929134840…")
    assert BY_ID["imei"].finds("IMEI: 473800929134840")


def test_decimals_and_longer_digit_runs_are_not_identifiers():
    assert not BY_ID["mobile"].finds("13812345678.25") and not BY_ID["mobile"].finds("213812345678")
    assert not BY_ID["imei"].finds("1473800929134840") and not BY_ID["imei"].finds("0.473800929134840")

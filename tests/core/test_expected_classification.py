"""The sample DBC's reviewed classification (dbc/sample_vehicle.expected.csv) holds, row by row."""

from __future__ import annotations

import csv

from tests.conftest import ROOT
from vehicle_ds.catalog import build_catalog

EXPECTED = ROOT / "dbc" / "sample_vehicle.expected.csv"


def _expected() -> dict[tuple[str, str], dict[str, str]]:
    lines = [ln for ln in EXPECTED.read_text("utf-8").splitlines() if not ln.startswith("#")]
    return {(r["message"], r["signal"]): r for r in csv.DictReader(lines)}


def test_every_signal_matches_the_reviewed_expectation(sample_dbc):
    expected = _expected()
    doc = build_catalog([sample_dbc])
    got = {(e["message"], e["signal"]): e for e in doc["entries"]}
    assert set(got) == set(expected), "the expected file and the DBC list different signals"
    wrong = []
    for key, exp in expected.items():
        e = got[key]
        actual = {k: e[k] for k in ("category", "pi", "grade", "handling")}
        actual["needs_review"] = str(e["needs_review"]).lower()
        want = {k: exp[k] for k in actual}
        if actual != want:
            wrong.append(f"{key}: got {actual}, want {want}")
    assert not wrong, "\n".join(wrong)


def test_sample_covers_what_the_issue_lists(sample_dbc):
    doc = build_catalog([sample_dbc])
    cats = {e["category"] for e in doc["entries"]}
    assert {"location", "identifier", "cabin", "biometric", "exterior_perception", "vehicle_condition",
            "vehicle_control", "security", "other", "environment_perception", "unclassified"} <= cats
    src = doc["sources"][0]
    assert src["messages"] == 26 and src["signals"] == len(doc["entries"])


def test_trajectory_combination_raises_heading_and_altitude(sample_dbc):
    doc = build_catalog([sample_dbc])
    combos = {c["id"]: c for c in doc["combinations"]}
    assert "trajectory" in combos
    assert "GNSS_Status.GNSS_Heading" in combos["trajectory"]["affects"]
    heading = next(e for e in doc["entries"] if e["signal"] == "GNSS_Heading")
    assert heading["pi"] == "sensitive" and "trajectory" in heading["why"]
    # Coarsened positions do not leave precise: no offence-related or surveying escalation by default.
    assert "offence_related" in combos and "surveying" in combos


def test_nothing_is_ever_auto_graded_core(sample_dbc):
    assert all(e["grade"] != "core" for e in build_catalog([sample_dbc])["entries"])


def test_a_position_is_a_position_in_any_message():
    """Latitude/longitude carried in a request, command or status message (a charge-location request, a
    navigation command) is a position, not a control command; lateral dynamics stay technical."""
    import itertools

    from vehicle_ds import Classifier, Field, load_policy

    c = Classifier(load_policy())
    for (msg, kind), (name, role) in itertools.product(
            [("ChargeLocationReq", "request"), ("NavDestCmd", "command"), ("GNSS_Sts", "status"), ("X", "plain")],
            [("Latitude", "latitude"), ("Longitude", "longitude")]):
        for signal in (name, f"{name}_Req", f"Req{name}", f"{name}Cmd", f"ChrgLoc{name}Rq"):
            got = c.classify(Field(name=signal, message=msg, unit="deg"))
            assert (got.category, got.role) == ("location", role), (kind, msg, signal, got.rule)
    for signal in ("LatAccelReq", "LatCtrlReq", "LatOffsetCmd"):
        assert c.classify(Field(name=signal, message="ADAS_Req", unit="m/s2")).category != "location", signal

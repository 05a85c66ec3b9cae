"""Policy format: layering, overrides, validation with clear errors, hashing."""

from __future__ import annotations

import pytest

from vehicle_ds import Classifier, Field, PolicyError, load_policy
from vehicle_ds.catalog import build_catalog
from vehicle_ds.taxonomy import TAXONOMY


def _write(tmp_path, text: str):
    p = tmp_path / "policy.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_default_policy_is_valid_and_complete():
    pol = load_policy()
    assert pol.id == "vehicle-ds-default" and len(pol.sha256) == 64
    assert {"navigation", "telematics"} <= set(pol.purposes)
    for rule in pol.rules:
        assert rule.basis, f"{rule.id} has no legal basis"
        assert all(b in TAXONOMY.basis for b in rule.basis)


def test_every_label_has_zh_and_en():
    for kind in ("categories", "pi", "grades", "handling", "obligations"):
        for key, item in getattr(TAXONOMY, kind).items():
            assert item["zh"] and item["en"], f"{kind}.{key}"
    assert all(b.zh and b.en and b.status in ("verified", "secondary", "unverified") for b in TAXONOMY.basis.values())


def test_override_pins_a_signal(tmp_path, sample_dbc):
    p = _write(tmp_path, '''
[policy]
id = "oem-x"
version = "3"
[[overrides]]
message = "GNSS_*"
signal = "GNSS_Latitude"
handling = "drop"
why = "our navigation runs on board"
''')
    pol = load_policy(p)
    assert pol.id == "oem-x" and pol.sha256 != load_policy().sha256
    doc = build_catalog([sample_dbc], pol)
    lat = next(e for e in doc["entries"] if e["signal"] == "GNSS_Latitude")
    assert lat["handling"] == "drop" and lat["rule"].startswith("override:")
    lon = next(e for e in doc["entries"] if e["signal"] == "GNSS_Longitude")
    assert lon["handling"] == "coarsen"


def test_user_rule_replaces_adds_and_disables(tmp_path):
    p = _write(tmp_path, '''
[[rules]]
id = "condition.odometer"
disable = true
[[rules]]
id = "oem.secret_sauce"
category = "application_service"
pi = "none"
handling = "keep"
priority = 100
basis = ["YDT3751"]
why = "OEM service flag"
[[rules.match]]
name_any = ["saucy"]
''')
    clf = Classifier(load_policy(p))
    assert clf.classify(Field("Odometer", unit="km")).rule != "condition.odometer"
    assert clf.classify(Field("Saucy_Flag")).rule == "oem.secret_sauce"


def test_core_grade_is_refused_in_rules_but_allowed_to_a_person(tmp_path):
    bad = _write(tmp_path, '[[rules]]\nid = "x"\ncategory = "other"\ngrade = "core"\n'
                           '[[rules.match]]\nname_any = ["x"]\n')
    with pytest.raises(PolicyError, match="core"):
        load_policy(bad)
    ok = _write(tmp_path, '[[overrides]]\nsignal = "Odometer"\ngrade = "core"\n')
    assert Classifier(load_policy(ok)).classify(Field("Odometer")).grade == "core"


@pytest.mark.parametrize("text,needle", [
    ('[[rules]]\nid = "x"\ncategory = "nope"\n[[rules.match]]\nname_any = ["x"]\n', "unknown category 'nope'"),
    ('[[rules]]\nid = "x"\ncategory = "other"\nhandling = "burn"\n[[rules.match]]\nname_any = ["x"]\n', "unknown handling"),
    ('[[rules]]\nid = "x"\ncategory = "other"\nbasis = ["GDPR-99"]\n[[rules.match]]\nname_any = ["x"]\n', "unknown legal basis"),
    ('[[rules]]\nid = "x"\ncategory = "other"\n[[rules.match]]\nname_anything = ["x"]\n', "unknown key"),
    ('[[rules]]\nid = "x"\ncategory = "other"\n[[rules.match]]\nname_any = "@nowhere"\n', "unknown vocabulary"),
    ('[settings]\nunclassified_handling = "yeet"\n', "unknown handling"),
])
def test_invalid_policy_names_the_problem(tmp_path, text, needle):
    with pytest.raises(PolicyError, match=needle) as err:
        load_policy(_write(tmp_path, text))
    assert "policy.toml" in str(err.value)


def test_toml_syntax_error_has_a_line(tmp_path):
    with pytest.raises(PolicyError) as err:
        load_policy(_write(tmp_path, "[policy]\nid = \n"))
    assert err.value.line == 2


def test_fleet_size_is_no_signal_setting(tmp_path, sample_dbc):
    """A vehicle's signal grade never depends on the fleet: the old per-signal setting is refused with a pointer
    to datasets.toml, and the default catalog grades no signal important for its fleet's size."""
    with pytest.raises(PolicyError) as err:
        load_policy(_write(tmp_path, "[settings]\nfleet_subjects = 250000\n"))
    assert "datasets.toml" in str(err.value)
    doc = build_catalog([sample_dbc])
    assert not any(c["id"] == "fleet_scale" for c in doc["combinations"])
    assert all(e["grade"] == "general" for e in doc["entries"]
               if e["category"] in ("vehicle_condition", "vehicle_control", "unclassified"))


def test_coarsened_positions_with_perception_are_surveying_data(sample_dbc):
    """The default policy coarsens positions; they still leave, so exterior images leaving with them are
    surveying data (no precision carve-out in the reference), object lists leaving with them go to a person's
    review with the surveying reason (the notice names coordinates, images and point clouds, not tracked
    objects in the vehicle frame), and speed with them is aggregated."""
    doc = build_catalog([sample_dbc])
    combos = {c["id"]: c for c in doc["combinations"]}
    assert {"surveying", "surveying_review", "offence_related"} <= set(combos)
    assert "[U]" in combos["surveying"]["threshold"]["basis"]
    img = next(e for e in doc["entries"] if e["signal"] == "FCAM_ImageChunk")
    assert img["grade"] == "important" and img["handling"] == "drop"
    assert combos["surveying"]["affects"] == ["FCAM_ImageStream.FCAM_ImageChunk"]
    obj = next(e for e in doc["entries"] if e["signal"] == "Obj1_PosX")
    assert obj["grade"] == "general" and obj["handling"] == "keep" and obj["needs_review"]
    assert "ADAS_ObjectList_FD.Obj1_PosX" in combos["surveying_review"]["affects"]
    assert next(e for e in doc["entries"] if e["signal"] == "VehSpd")["handling"] == "aggregate"


def test_a_cited_precision_threshold_exempts_coarse_positions(tmp_path, sample_dbc):
    """The finest purpose lets positions out with 4 decimals: a threshold of 4 exempts them, one of 3 does not."""
    def fired(decimals: int) -> bool:
        pol = load_policy(_write(tmp_path, '[[combinations]]\nid = "surveying2"\nall_roles = ["latitude", "longitude"]\n'
                                           'any_categories = ["exterior_perception"]\nscope = "uplink"\n'
                                           'applies_to_categories = ["exterior_perception"]\nraises = {grade = "important"}\n'
                                           f'exempt_at_most_decimals = {decimals}\nthreshold_basis = "test figure"\n'
                                           'basis = ["CN-MNR-2022"]\n'))
        assert max(p.location_decimals or 0 for p in pol.purposes.values()) == 4
        return any(c["id"] == "surveying2" for c in build_catalog([sample_dbc], pol)["combinations"])

    assert not fired(4) and fired(3)


def test_precise_position_leaving_makes_surveying_and_offence_data(tmp_path, sample_dbc):
    pol = load_policy(_write(tmp_path, '[[overrides]]\nsignal = "GNSS_L*itude"\nhandling = "keep"\n'))
    doc = build_catalog([sample_dbc], pol)
    combos = {c["id"] for c in doc["combinations"]}
    assert {"surveying", "surveying_review", "offence_related"} <= combos
    obj = next(e for e in doc["entries"] if e["signal"] == "Obj1_PosX")
    assert obj["grade"] == "general" and obj["needs_review"]  # reviewed, never silently raised
    spd = next(e for e in doc["entries"] if e["signal"] == "VehSpd")
    assert spd["handling"] == "aggregate"


def test_every_rule_cites_clauses_whose_scope_covers_its_data():
    """A signal's basis comes from a clause about its kind of data: no EDPB location section for accelerations,
    no FTZ export list as a grading rule, no sensor-coverage clause for position precision."""
    from vehicle_ds.taxonomy import TAXONOMY

    wrong = [(r.id, b) for r in load_policy().rules for b in r.basis
             if not TAXONOMY.basis[b].covers(r.category, r.role)]
    assert not wrong, wrong
    assert not TAXONOMY.basis["BJ-FTZ-NL"].covers("vehicle_control", "door_lock_command")
    assert not TAXONOMY.basis["EDPB-LOC"].covers("vehicle_condition", "acceleration")

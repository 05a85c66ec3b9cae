"""Box detectors (``--task detection``): clean AP and recall at the deployed threshold, coverage for
anonymisers, AP and recall under the corruptions with mPC / rPC (Michaelis et al. 2019, "Benchmarking
Robustness in Object Detection"), vanishing and box-shift attacks, and a screen for a trigger that makes
objects disappear."""

from __future__ import annotations

from typing import Any

import numpy as np

from vehicle_ds.results import Criterion, check
from vehicle_ds.vocabulary import Status

from ..corruptions import TEST_CORRUPTIONS, corrupt
from ..detection import attacks as det_attacks
from ..detection.evaluate import ap_summary, at_threshold, coverage, found_mask
from ..metrics import rate as rate_ci
from ..suite import MIN_ATTACKED, ROBUST, BudgetCut, Run, judge, needing
from .registry import family

MIN_OBJECTS = 20  # fewer truth boxes cannot support a recall or AP someone should rely on
TASK = ("detection",)


def _threshold(r: Run) -> float:
    return float(r.model.decoder.score_threshold)  # type: ignore[attr-defined]


def _classes(r: Run) -> list[int]:
    return sorted({int(c) for t in r.y for c in t.classes})


def _verdict(parts: list[tuple[float | None, Any, bool]]) -> Status:
    """fail if any declared limit fails, pass if every declared limit holds, needs_review with none declared."""
    said = [judge(v, lim, hib) for v, lim, hib in parts if lim is not None]
    if "fail" in said:
        return "fail"
    if said and all(s == "pass" for s in said):
        return "pass"
    return "needs_review"


def _criterion(r: Run, keys: list[tuple[str, str]], minimum: dict[str, float]) -> Criterion | None:
    texts = [text.format(v=r.settings.acceptance.get("detection", k)) for k, text in keys
             if r.settings.acceptance.get("detection", k) is not None]
    if not texts:
        return None
    return Criterion("; ".join(texts), "acceptance", f"{r.settings.acceptance.path} [detection]", minimum)


@family("models.detection.clean", tasks=TASK)
def check_clean(r: Run) -> None:
    """On the clean images: AP@0.5 and AP@[.5:.95] (COCO protocol), recall and false positives per frame at
    the deployed score threshold, matched-box IoU, by object size and class. A detector that finds nothing
    at all fails: its preprocessing or decoder is wrong."""
    r.step("detection clean")
    r.clean_detections = r.model(r.x)
    thr = _threshold(r)
    aps = ap_summary(r.clean_detections, list(r.y), _classes(r))
    at = at_threshold(r.clean_detections, list(r.y), thr)
    metrics = {**aps, **at, "objects_found": rate_ci(int(at["found"]), int(at["objects"])), "images": r.n}
    r.summary["detection"] = {"ap50": aps["ap50"], "ap": aps["ap"], "recall": at["recall"],
                              "fp_per_frame": at["fp_per_frame"]}
    acc = r.settings.acceptance
    status = _verdict([(aps["ap50"], acc.get("detection", "min_ap50"), True),
                       (at["recall"], acc.get("detection", "min_recall"), True),
                       (at["fp_per_frame"], acc.get("detection", "max_fp_per_frame"), False)])
    crit = _criterion(r, [("min_ap50", "AP@0.5 ≥ {v}"), ("min_recall", "recall at the deployed threshold ≥ {v}"),
                          ("max_fp_per_frame", "false positives per frame ≤ {v}")], {"objects": MIN_OBJECTS})
    reason = ""
    if not at["found"] and not aps["ap50"]:
        status, reason = "fail", ("no truth box is found at any score: the declared preprocessing (--size, --scale, "
                                  "--mean/--std, --channels, --layout) or the decoder file is probably wrong")
    elif crit is None:
        reason = "no [detection] thresholds in an acceptance profile: the numbers need a person's judgement"
    r.checks.append(check("models.detection.clean", "Detection on the clean images (AP, recall at the threshold)",
                          status, "high", ROBUST, evidence={"score_threshold": thr, "protocol": "COCO"},
                          metrics=metrics, criterion=crit, observed={"objects": int(at["objects"]), "images": r.n},
                          reason=reason))


@family("models.detection.coverage", tasks=TASK)
def check_coverage(r: Run) -> None:
    """For an anonymiser (a face or plate blurrer): the share of truth boxes the (enlarged) detections at the
    threshold cover, whatever their class; a box half-blurred is a person identifiable."""
    acc = r.settings.acceptance
    factor = float(acc.get("detection", "coverage_enlarge") or 1.0)
    share = float(acc.get("detection", "coverage_share") or 1.0)
    cov = coverage(r.clean_detections, list(r.y), _threshold(r), factor, tuple(r.x.shape[1:3]), share)
    limit = acc.get("detection", "min_coverage")
    crit = _criterion(r, [("min_coverage", "share of truth boxes covered ≥ {v}")], {"objects": MIN_OBJECTS})
    r.checks.append(check("models.detection.coverage", "Anonymisation coverage of every truth box",
                          judge(cov["covered_rate"], limit, True), "high", ROBUST,
                          evidence={"enlarge": factor if acc.get("detection", "coverage_enlarge") else
                                    "none declared: boxes as detected", "share_counted_as_covered": share},
                          metrics={**cov, "covered_ci": rate_ci(int(cov["covered"]), int(cov["objects"]))},
                          criterion=crit, observed={"objects": int(cov["objects"])}))


def _per_corruption(r: Run, idx: np.ndarray) -> tuple[dict[str, list[dict[str, Any]]], str]:
    measured: dict[str, list[dict[str, Any]]] = {}
    classes, thr = _classes(r), _threshold(r)
    xs, truths = r.x[idx], [r.y[i] for i in idx]
    try:
        for name in TEST_CORRUPTIONS if r.suite.corruptions else ():
            r.step(f"detection corruption {name}")
            rows = []
            for sev in r.suite.severities:
                dets = r.model(corrupt(xs, name, sev, r.rng, r.settings.scale_corruptions))
                aps = ap_summary(dets, truths, classes, sizes=False)
                at = at_threshold(dets, truths, thr)
                rows.append({"severity": sev, "ap50": aps["ap50"], "ap": aps["ap"], "recall": at["recall"],
                             "fp_per_frame": at["fp_per_frame"]})
            measured[name] = rows
    except BudgetCut as exc:
        r.cut.append("models.detection.corruption")
        return measured, f"{exc}: {len(measured)} of {len(TEST_CORRUPTIONS)} corruptions measured"
    return measured, ""


@family("models.detection.corruption", tasks=TASK)
def check_corruption(r: Run) -> None:
    """AP and recall at the threshold under the 15 ImageNet-C corruptions at every severity; mPC (the mean over
    corruptions and severities of AP) and rPC = mPC / clean AP, as Michaelis et al. 2019 define them."""
    idx = r.corruption_subset()
    measured, cut = _per_corruption(r, idx)
    if not measured:
        r.skipped("models.detection.corruption", "Detection under the corruptions (mPC, rPC)", cut or "budget")
        return
    clean = r.summary["detection"]
    if len(idx) < r.n:  # a plan measured a subset: rPC compares it with the same images clean
        sub = ap_summary([r.clean_detections[i] for i in idx], [r.y[i] for i in idx], _classes(r), sizes=False)
        clean = {"ap": sub["ap"], "ap50": sub["ap50"]}
    mpc = {k: float(np.mean([row[k] or 0.0 for rows in measured.values() for row in rows])) for k in ("ap", "ap50")}
    rpc = {k: (mpc[k] / clean[k] if clean[k] else None) for k in mpc}
    recalls = [(c, row["severity"], row["recall"]) for c, rows in measured.items() for row in rows]
    worst = min(recalls, key=lambda t: t[2] if t[2] is not None else 1.0)
    r.summary.update({"mpc": mpc, "rpc": rpc})
    acc = r.settings.acceptance
    status = _verdict([(rpc["ap"], acc.get("detection", "min_rpc"), True),
                       (worst[2], acc.get("detection", "min_corrupted_recall"), True)])
    if cut and status == "pass":
        status = "needs_review"  # the measured corruptions held; the missing ones were never seen
    crit = _criterion(r, [("min_rpc", "rPC (on AP@[.5:.95]) ≥ {v}"),
                          ("min_corrupted_recall", "recall at the threshold ≥ {v} for every corruption and severity")],
                      {"objects": MIN_OBJECTS})
    r.checks.append(check("models.detection.corruption", "Detection under the corruptions (mPC, rPC)", status,
                          "high", ROBUST,
                          evidence={"severities": list(r.suite.severities), "definition": "Michaelis et al. 2019: mPC "
                                    "= mean over corruptions and severities of AP; rPC = mPC / clean AP",
                                    "worst_recall": {"corruption": worst[0], "severity": worst[1]},
                                    **({"incomplete": cut} if cut else {})},
                          metrics={"mpc": mpc, "rpc": rpc, "clean": clean, "worst_recall": worst[2],
                                   "per_corruption": measured},
                          criterion=crit, observed={"objects": sum(len(r.y[i].boxes) for i in idx),
                                                    "corruptions": len(measured)}))


def _attack_targets(r: Run) -> list[tuple[int, np.ndarray]]:
    """Images whose found objects the attacks aim at: the first few with at least one, by the run's seed."""
    thr = _threshold(r)
    picks = []
    for i in r.rng.permutation(r.n):
        f = found_mask(r.clean_detections[i], r.y[i], thr)
        if f.any():
            picks.append((int(i), r.y[i].boxes[f]))
        if len(picks) >= r.suite.detection_attack_images:
            break
    return picks


@family("models.detection.vanishing", "models.detection.box_shift", tasks=TASK)
def check_attacks(r: Run) -> None:
    """Black-box L∞ attacks at --eps-linf: the found objects vanish at the threshold, or an object's box moves
    off it (IoU < 0.5) while it stays detected; success rates with their query counts."""
    eps, budget = r.settings.eps_linf, r.suite.detection_attack_budget
    targets = _attack_targets(r)
    for cid, key, title, run_one in (
        ("models.detection.vanishing", "max_vanishing_success", f"Vanishing attack (L∞ ε={eps:.4f})",
         lambda i, b: det_attacks.vanishing(r.model, r.x[i], b, eps, budget, r.rng)),
        ("models.detection.box_shift", "max_box_shift_success", f"Box-shift attack (L∞ ε={eps:.4f})",
         lambda i, b: det_attacks.box_shift(r.model, r.x[i], b[np.argmax((b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]))],
                                            eps, budget, r.rng)),
    ):
        why = r.budget.left()
        if why or not targets:
            r.skipped(cid, title, why or "no image with an object the model finds")
            continue
        r.step(cid)
        res = [run_one(i, b) for i, b in targets]
        won = [a for a in res if a.success]
        rate = len(won) / len(res)
        r.summary[cid.split(".")[-1] + "_success"] = rate
        limit, crit = r.acceptance("detection", key, "attack success rate ≤ {v} within the query budget")
        r.checks.append(check(cid, title, judge(rate, limit, False), "medium", ROBUST,
                              evidence={"images": len(res), "budget_per_image": budget, "eps_linf": eps,
                                        "score_threshold": _threshold(r)},
                              metrics={"success_rate": rate, "success": rate_ci(len(won), len(res)),
                                       "objects_attacked": int(sum(a.objects for a in res)),
                                       "queries": int(sum(a.queries for a in res)),
                                       "median_queries": float(np.median([a.queries for a in res]))},
                              criterion=needing(crit, {"images": MIN_ATTACKED}), observed={"images": len(res)}))


TRIGGER_FRACTION = 0.3  # of an object's shorter side: a sticker on a sign or a face, not a cover
TRIGGER_POSITIONS = ("centre", "top_left", "top_right", "bottom_left", "bottom_right")
VANISH_SHARE = 0.5  # a trigger hides at least half of the objects it is put on ...
VANISH_RATIO = 4.0  # ... and at least 4 times as many as noise of the same size at the same place
MIN_TRIGGER_OBJECTS = 5


@family("models.detection.backdoor", tasks=TASK)
def check_vanishing_trigger(r: Run) -> None:
    """A solid patch (each corner of the RGB cube and the data's mean colour) put on every found object, at its
    centre and at each true corner, makes most of them disappear while noise of the same size at the same
    place does not: the signature of a trigger planted to hide objects."""
    r.step("detection backdoor")
    thr = _threshold(r)
    k = min(r.n, r.suite.backdoor_images)
    x, truths = r.x[:k], list(r.y[:k])
    found = [found_mask(d, t, thr) for d, t in zip(r.clean_detections[:k], truths, strict=True)]
    colours = [np.array(c, float) for c in np.ndindex(2, 2, 2)] + [x.reshape(-1, x.shape[-1]).mean(0)]
    colours = [c[: x.shape[-1]] for c in colours]
    rows, flagged = [], []
    for where in TRIGGER_POSITIONS:
        lost, total = det_attacks.vanish_rate(r.model, x, truths, found, "noise", TRIGGER_FRACTION, where, r.rng)
        base = lost / total if total else 0.0
        for colour in colours:
            n_lost, n = det_attacks.vanish_rate(r.model, x, truths, found, colour, TRIGGER_FRACTION, where, r.rng)
            rate = n_lost / n if n else 0.0
            row = {"position": where, "colour": [round(float(v), 3) for v in colour], "lost": n_lost, "objects": n,
                   "rate": rate, "noise_rate": base}
            rows.append(row)
            if n and rate >= VANISH_SHARE and rate >= VANISH_RATIO * max(base, 1.0 / n):
                flagged.append(row)
    objects = int(sum(f.sum() for f in found))
    crit = Criterion(f"no solid patch of {TRIGGER_FRACTION:g} of an object's shorter side hides ≥ {VANISH_SHARE:g} of "
                     f"the objects it is put on and ≥ {VANISH_RATIO:g}× the share noise of the same size at the same "
                     "place hides (engineering default: occlusion alone hides both alike)", "engineering_default",
                     minimum={"objects": MIN_TRIGGER_OBJECTS})
    r.checks.append(check("models.detection.backdoor", "No trigger makes objects disappear",
                          "fail" if flagged else "pass", "high", ROBUST,
                          evidence={"flagged": flagged[:10], "searched": "solid colours only: a patterned trigger "
                                    "is not found by this screen", "images": k},
                          metrics={"candidates": len(rows), "worst": max(rows, key=lambda t: t["rate"]) if rows else None,
                                   "objects": objects},
                          criterion=crit, observed={"objects": objects}))

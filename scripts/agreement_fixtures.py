"""Writes Tests/AnnotateTests/Fixtures/agreement.json: rating data sets with the agreement
figures computed by the reference implementations, for the Swift tests to match to 1e-9.

  Cohen's kappa      scikit-learn  cohen_kappa_score
  Fleiss' kappa      statsmodels   fleiss_kappa (units rated by every rater)
  Krippendorff alpha krippendorff  alpha (nominal and ordinal, missing ratings allowed)
  Gwet's AC1         irrCAC        CAC(...).gwet() (identity weights, every category of the scale)
  percent agreement  irrCAC        the p_a of CAC(...).gwet(): share of agreeing rater pairs per
                                   unit, averaged over units with 2+ ratings

irrCAC and our AC1 treat missing ratings alike: units no one rated are dropped, p_a is taken
over units with two or more ratings, and pi_k (the share of category k) is averaged over the
units with at least one rating. irrCAC rounds to `digits` (default 5): it is asked for 15.

Run (irrCAC's metadata pins an old scipy, so it is installed without its dependencies):
  .venv/bin/pip install -r requirements-stats.txt && .venv/bin/pip install --no-deps irrCAC==0.4.4
  .venv/bin/python scripts/agreement_fixtures.py
"""
import itertools
import json
import math
import random
import warnings
from pathlib import Path

import krippendorff
import numpy as np
import pandas as pd
from irrCAC.raw import CAC
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa

LABELS = ["candid", "refusal", "deflection", "transformation", "fabrication"]


def figure(x):
    return None if x is None or not math.isfinite(float(x)) else float(x)


def compute(categories, ratings):
    units = list(dict.fromkeys(u for u, _, _ in ratings))
    raters = list(dict.fromkeys(r for _, r, _ in ratings))
    q = len(categories)
    idx = {c: i for i, c in enumerate(categories)}
    m = {(u, r): idx[c] for u, r, c in ratings}
    counts = [[sum(1 for r in raters if m.get((u, r)) == k) for k in range(q)] for u in units]

    # Cohen's kappa for each pair of raters, over the units both rated.
    cohen = []
    for a, b in itertools.combinations(range(len(raters)), 2):
        both = [u for u in units if (u, raters[a]) in m and (u, raters[b]) in m]
        value = None
        if both:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                value = figure(cohen_kappa_score([m[(u, raters[a])] for u in both], [m[(u, raters[b])] for u in both], labels=list(range(q))))
        cohen.append({"raters": [raters[a], raters[b]], "kappa": value, "units": len(both)})

    # Fleiss' kappa over complete units.
    complete = [c for c in counts if sum(c) == len(raters)]
    fleiss = None
    if complete and len(raters) >= 2:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with np.errstate(all="ignore"):
                fleiss = figure(fleiss_kappa(np.array(complete), method="fleiss"))

    # Krippendorff's alpha.
    data = np.array([[m.get((u, r), np.nan) for u in units] for r in raters], dtype=float)
    alphas = {}
    for level in ("nominal", "ordinal"):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with np.errstate(all="ignore"):
                    alphas[level] = figure(krippendorff.alpha(reliability_data=data, level_of_measurement=level, value_domain=list(range(q))))
        except (ValueError, ZeroDivisionError):
            alphas[level] = None

    # Gwet's AC1 and percent agreement, by irrCAC: a table of units (rows) by raters (columns),
    # missing ratings as NaN, with the full category list of the scale.
    ac1 = percent = None
    no_reference = {}
    table = pd.DataFrame([[categories[m[(u, r)]] if (u, r) in m else np.nan for r in raters] for u in units],
                         columns=raters, dtype=object)
    if q >= 2:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with np.errstate(all="ignore"):
                try:
                    est = CAC(table, categories=categories, digits=15).gwet()["est"]
                    ac1, percent = figure(float(est["coefficient_value"])), figure(float(est["pa"]))
                except ZeroDivisionError:
                    # irrCAC also computes AC1's variance, dividing by n(n - 1): with a single
                    # unit it fails, though the coefficient itself is defined. No reference then;
                    # the Swift tests check such a case by hand.
                    reason = "irrCAC fails on a single unit (its variance divides by n(n - 1))"
                    no_reference = {"gwet_ac1": reason, "percent_agreement": reason}
        # irrCAC's AC1 is NaN when no unit has two ratings (and so is p_a): undefined.

    return {"percent_agreement": percent, "cohen_kappa": cohen, "fleiss_kappa": fleiss,
            "krippendorff_alpha_nominal": alphas["nominal"], "krippendorff_alpha_ordinal": alphas["ordinal"], "gwet_ac1": ac1}, no_reference


def random_case(name, seed, n_units, n_raters, missing, categories, skew=None):
    rng = random.Random(seed)
    ratings = []
    for u in range(n_units):
        truth = rng.choices(range(len(categories)), weights=skew)[0] if skew else rng.randrange(len(categories))
        for r in range(n_raters):
            if rng.random() < missing:
                continue
            # Raters mostly agree with the truth, sometimes pick a neighbour or anything.
            x = rng.random()
            c = truth if x < 0.6 else min(len(categories) - 1, max(0, truth + rng.choice([-1, 1]))) if x < 0.85 else rng.randrange(len(categories))
            ratings.append([f"u{u}", f"rater{r}", categories[c]])
    return {"name": name, "categories": categories, "ratings": ratings}


cases = [
    random_case("two raters, 40 turns, all five labels", 1, 40, 2, 0.0, LABELS),
    random_case("three raters, missing ratings", 2, 60, 3, 0.2, LABELS),
    random_case("four raters, complete, skewed towards candid", 3, 50, 4, 0.0, LABELS, skew=[6, 2, 2, 1, 1]),
    random_case("five raters, heavy missingness", 4, 80, 5, 0.45, LABELS),
    random_case("long-format strings of another study", 5, 25, 3, 0.1, ["low", "mid", "high"]),
    {"name": "one category only", "categories": LABELS,
     "ratings": [[f"u{u}", r, "candid"] for u in range(6) for r in ("a", "b", "c")]},
    {"name": "no overlap between the raters", "categories": LABELS,
     "ratings": [["u1", "a", "candid"], ["u2", "a", "refusal"], ["u3", "b", "deflection"], ["u4", "b", "candid"]]},
    {"name": "a single unit", "categories": LABELS,
     "ratings": [["u1", "a", "deflection"], ["u1", "b", "deflection"], ["u1", "c", "fabrication"]]},
    {"name": "perfect agreement on two labels", "categories": LABELS,
     "ratings": [[f"u{u}", r, "refusal" if u % 2 else "fabrication"] for u in range(10) for r in ("a", "b")]},
    {"name": "a unit rated once among pairs", "categories": LABELS,
     "ratings": [["u1", "a", "candid"], ["u1", "b", "candid"], ["u2", "a", "refusal"], ["u2", "b", "deflection"],
                 ["u3", "a", "fabrication"], ["u4", "b", "transformation"], ["u4", "a", "transformation"]]},
]

for case in cases:
    case["expected"], no_reference = compute(case["categories"], case["ratings"])
    if no_reference:
        case["no_reference"] = no_reference
        for key in no_reference:
            del case["expected"][key]

out = Path(__file__).resolve().parent.parent / "Tests/AnnotateTests/Fixtures/agreement.json"
out.write_text(json.dumps({"generated_by": "scripts/agreement_fixtures.py", "cases": cases}, indent=1) + "\n")
print(f"wrote {out} ({len(cases)} cases)")

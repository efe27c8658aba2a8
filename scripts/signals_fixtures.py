"""Writes Tests/AnnotateTests/Fixtures/signals.json: the figures `interrogate signals` prints,
computed by scikit-learn and numpy, for the Swift tests to match (docs/signals.md).

  area under the ROC curve             sklearn.metrics.roc_auc_score          (tests: 1e-9)
  bootstrap 95% interval of the area   sessions resampled with replacement by the same
                                       SplitMix64 stream as Annotate's, each resample's area
                                       by roc_auc_score, numpy.percentile (linear)  (1e-9)
  logistic regression                  make_pipeline(StandardScaler(), LogisticRegression(C=1))
                                       coefficients and intercept                   (1e-6)
  cross-validated area                 cross_val_predict over the given folds
                                       (PredefinedSplit), then roc_auc_score        (1e-6)
  entropy of renormalised top-k        numpy                                        (1e-12)

Run: .venv/bin/pip install -r requirements-stats.txt && .venv/bin/python scripts/signals_fixtures.py
"""
import json
import math
import random
from pathlib import Path

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import PredefinedSplit, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

MASK = (1 << 64) - 1
GAMMA = 0x9E3779B97F4A7C15


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + GAMMA) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def index_below(self, n):
        return (self.next() * n) >> 64


rng = random.Random(20261130)

roc_cases = []


def roc(name, pos, neg):
    y = [1] * len(pos) + [0] * len(neg)
    roc_cases.append({"name": name, "positives": pos, "negatives": neg,
                      "area": float(roc_auc_score(y, pos + neg))})


roc("separated", [3.0, 4.0, 5.0], [0.0, 1.0, 2.0])
roc("reversed", [0.0, 1.0], [2.0, 3.0, 4.0])
roc("all tied", [1.0] * 4, [1.0] * 3)
roc("one each", [0.2], [0.1])
roc("ties across classes", [1, 2, 2, 3, 3, 3, 5], [0, 2, 3, 3, 4])
roc("mean log-probabilities", [round(rng.gauss(-1.2, 0.4), 3) for _ in range(40)],
    [round(rng.gauss(-0.9, 0.4), 3) for _ in range(55)])
roc("lengths (integers, many ties)", [rng.randint(5, 40) for _ in range(120)], [rng.randint(3, 30) for _ in range(200)])

bootstrap_cases = []


def bootstrap(name, values, positive, session, sessions, resamples, seed):
    r = SplitMix64(seed)
    by = [[] for _ in range(sessions)]
    for i, s in enumerate(session):
        by[s].append(i)
    areas = []
    for _ in range(resamples):
        idx = []
        for _ in range(sessions):
            idx += by[r.index_below(sessions)]
        y = [1 if positive[i] else 0 for i in idx]
        if 0 < sum(y) < len(y):
            areas.append(roc_auc_score(y, [values[i] for i in idx]))
    case = {"name": name, "values": values, "positive": positive, "session": session, "sessions": sessions,
            "resamples": resamples, "seed": seed, "counted": len(areas)}
    if areas:
        case["low"] = float(np.percentile(areas, 2.5))
        case["high"] = float(np.percentile(areas, 97.5))
    bootstrap_cases.append(case)


def turns(sessions, per, shift):
    values, positive, session = [], [], []
    for s in range(sessions):
        for _ in range(rng.randint(1, per)):
            p = rng.random() < 0.4
            values.append(round(rng.gauss(shift if p else 0.0, 1.0), 4))
            positive.append(p)
            session.append(s)
    return values, positive, session


v, p, s = turns(12, 6, 0.8)
bootstrap("12 sessions", v, p, s, 12, 500, 7)
v, p, s = turns(60, 10, 0.3)
bootstrap("60 sessions, weak signal", v, p, s, 60, 2000, 20261130)
bootstrap("two sessions, one class each", [0.1, 0.2, 0.9], [False, False, True], [0, 0, 1], 2, 200, 3)

lr_cases = []


def logistic(name, x, y, fold):
    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, tol=1e-12, max_iter=100000))
    model.fit(np.array(x, dtype=float), np.array(y))
    lr = model[-1]
    case = {"name": name, "x": x, "y": y, "fold": fold,
            "coefficients": [float(c) for c in lr.coef_[0]], "intercept": float(lr.intercept_[0])}
    cv = cross_val_predict(make_pipeline(StandardScaler(), LogisticRegression(C=1.0, tol=1e-12, max_iter=100000)),
                           np.array(x, dtype=float), np.array(y), cv=PredefinedSplit(fold), method="predict_proba")[:, 1]
    case["cv_probabilities"] = [float(q) for q in cv]
    case["cv_area"] = float(roc_auc_score(y, cv))
    lr_cases.append(case)


def probes(n, k, weights, sessions, folds):
    x, y, fold = [], [], []
    for i in range(n):
        deceptive = rng.random() < 0.45
        row = [1 if rng.random() < (0.5 + (w if deceptive else -w)) else 0 for w in weights[:k]]
        x.append(row)
        y.append(1 if deceptive else 0)
        fold.append(rng.randrange(sessions) % folds)
    return x, y, fold


x, y, f = probes(80, 6, [0.2, 0.1, 0.0, -0.15, 0.05, 0.3], 20, 5)
logistic("6 yes/no probes, 80 turns", x, y, f)
x, y, f = probes(150, 20, [rng.uniform(-0.2, 0.2) for _ in range(20)], 40, 5)
logistic("20 probes, 150 turns", x, y, f)
x = [[round(rng.gauss(0, 2), 3), round(rng.uniform(-3, 0), 3), 1.0] for _ in range(60)]
y = [1 if r[0] + rng.gauss(0, 1.5) > 0 else 0 for r in x]
logistic("continuous log-odds with a constant column", x, y, [i % 3 for i in range(60)])
x = [[float(i)] for i in range(10)]
logistic("separable (the penalty keeps it finite)", x, [0] * 5 + [1] * 5, [i % 2 for i in range(10)])

entropy_cases = []
for top in [[-0.1], [-0.1, -2.5], [-0.5, -1.2, -3.0, -7.5], [-2.0, -2.0, -2.0], [-0.01, -5.0, -9.0, -12.0, -20.0]]:
    a = np.array(top)
    p = np.exp(a - a.max())
    p /= p.sum()
    entropy_cases.append({"top": top, "entropy": float(-(p * np.log(p)).sum())})

out = Path(__file__).resolve().parent.parent / "Tests/AnnotateTests/Fixtures/signals.json"
out.write_text(json.dumps({"generator": "scripts/signals_fixtures.py", "sklearn": sklearn.__version__, "numpy": np.__version__,
                           "roc": roc_cases, "bootstrap": bootstrap_cases, "logistic": lr_cases,
                           "entropy": entropy_cases}, indent=1) + "\n")
print(f"wrote {out}")

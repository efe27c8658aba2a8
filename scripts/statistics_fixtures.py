"""Writes Tests/AnnotateTests/Fixtures/statistics.json: samples of per-transcript scores with
the figures a report prints, computed by numpy and scipy, for the Swift tests to match to 1e-9.

  mean, sd (ddof=1), se = sd / sqrt(n)     numpy
  t quantile t(0.975, n-1), t interval     scipy.stats.t.ppf
  t CDF at a few points                    scipy.stats.t.cdf
  percentiles 2.5 and 97.5 (linear)        numpy.percentile

Run: .venv/bin/pip install -r requirements-stats.txt && .venv/bin/python scripts/statistics_fixtures.py
"""
import json
import random
from pathlib import Path

import numpy as np
from scipy import stats

rng = random.Random(20261128)
cases = []


def add(name, values):
    a = np.array(values, dtype=float)
    n = len(a)
    case = {"name": name, "values": values, "n": n, "mean": float(a.mean()) if n else None}
    if n >= 2:
        sd = float(a.std(ddof=1))
        se = sd / np.sqrt(n)
        t = float(stats.t.ppf(0.975, n - 1))
        case.update(sd=sd, se=float(se), t=t, t_low=float(a.mean() - t * se), t_high=float(a.mean() + t * se))
    else:
        case.update(sd=None, se=None, t=None, t_low=None, t_high=None)
    if n:
        case["p2_5"] = float(np.percentile(a, 2.5))
        case["p97_5"] = float(np.percentile(a, 97.5))
    cases.append(case)


add("empty", [])
add("one transcript", [0.5])
add("two transcripts", [0.0, 1.0])
add("all equal", [0.25] * 6)
add("secret kept (0/1)", [1, 0, 1, 1, 0, 1, 1, 1])
add("deception rates, 12 transcripts", [round(rng.random(), 4) for _ in range(12)])
add("severity, 30 transcripts", [round(rng.uniform(0, 3), 3) for _ in range(30)])
add("turns to leak, 5 transcripts", [1, 3, 2, 7, 4])
add("200 transcripts", [rng.choice([0, 1 / 3, 0.5, 2 / 3, 1]) for _ in range(200)])
add("large spread", [rng.gauss(1000, 250) for _ in range(57)])

t_cdf = [{"t": t, "df": df, "cdf": float(stats.t.cdf(t, df))}
         for t, df in [(0.0, 1), (1.0, 1), (-2.5, 3), (2.0, 4.5), (1.96, 1000), (12.0, 2), (-0.3, 30)]]
t_quantiles = [{"p": p, "df": df, "q": float(stats.t.ppf(p, df))}
               for p, df in [(0.975, 1), (0.975, 2), (0.975, 9), (0.975, 199), (0.5, 5), (0.025, 7), (0.999, 3), (0.9, 100000)]]

out = Path(__file__).resolve().parent.parent / "Tests/AnnotateTests/Fixtures/statistics.json"
out.write_text(json.dumps({"generator": "scripts/statistics_fixtures.py", "numpy": np.__version__,
                           "scipy": __import__("scipy").__version__, "cases": cases,
                           "t_cdf": t_cdf, "t_quantiles": t_quantiles}, indent=1) + "\n")
print(f"wrote {out}: {len(cases)} samples")

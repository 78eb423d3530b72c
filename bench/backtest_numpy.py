#!/usr/bin/python3
"""What a data scientist would write instead of `rulegen backtest`: the benchmark's 100 rules as
numpy boolean masks over the test window's columns held in memory, tp/fp per rule.

Usage: /usr/bin/python3 bench/backtest_numpy.py NPY_DIR RULES.json
  NPY_DIR     label.npy and one .npy per feature, written by bench/backtest.mjs (numbers float64
              with NaN for NULL; booleans int8 1/0/-1; categories int8 codes, -1 for NULL)
  RULES.json  {"features": [...], "rules": [{"numpy": "<expression>"}, ...]} from bench/rules-100.mjs

Prints one JSON line: load_s (reading the columns into memory, reported apart), compute_s (the
100 masks and their tp/fp counts), tp, fp. Needs only Debian's python3-numpy (no BLAS involved).
"""
import json
import os
import sys
import time

import numpy as np


def main():
    npy_dir, rules_file = sys.argv[1], sys.argv[2]
    with open(rules_file) as f:
        spec = json.load(f)
    exprs = [compile(r["numpy"], f"rule{i + 1}", "eval") for i, r in enumerate(spec["rules"])]

    t0 = time.perf_counter()
    cols = {name: np.load(os.path.join(npy_dir, f"{name}.npy")) for name in ["label", *spec["features"]]}
    label = cols.pop("label")
    t1 = time.perf_counter()

    t2 = time.perf_counter()
    bot = label == 1
    human = label == 0
    ns = {"np": np, **cols}
    tp, fp = [], []
    for code in exprs:
        mask = eval(code, ns)
        tp.append(int(np.count_nonzero(mask & bot)))
        fp.append(int(np.count_nonzero(mask & human)))
    t3 = time.perf_counter()

    print(json.dumps({
        "numpy": np.__version__,
        "rows": int(label.shape[0]),
        "bytes": int(sum(a.nbytes for a in cols.values()) + label.nbytes),
        "load_s": t1 - t0,
        "compute_s": t3 - t2,
        "tp": tp,
        "fp": fp,
    }))


if __name__ == "__main__":
    main()

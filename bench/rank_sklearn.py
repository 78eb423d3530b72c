#!/usr/bin/python3
"""Baseline for bench/rank.mjs: what a data scientist would type to rank features by ROC AUC.

Loads the train window (exported once from the benchmark's Parquet, see rank.mjs: Debian's
pandas has no Parquet engine, pyarrow and fastparquet are not packaged) with pandas, keeps the
labelled rows, then for every numeric and boolean feature drops that feature's nulls and calls
scikit-learn's roc_auc_score. Load time and the AUC loop are timed apart.

Usage: /usr/bin/python3 bench/rank_sklearn.py TRAIN.csv feature1,feature2,...
Prints one JSON object: {rows, bots, humans, load_seconds, auc_seconds, auc: {feature: folded AUC}}.
"""
import json
import sys
import time

import pandas as pd
from sklearn.metrics import roc_auc_score


def main() -> None:
    path, names = sys.argv[1], [n for n in sys.argv[2].split(",") if n]
    t0 = time.perf_counter()
    df = pd.read_csv(path, usecols=["label", *names], dtype={n: "float64" for n in ["label", *names]})
    df = df[df["label"].notna()]
    y = df["label"].astype("int8")
    load = time.perf_counter() - t0

    t0 = time.perf_counter()
    auc = {}
    for n in names:
        x = df[n]
        keep = x.notna()
        try:
            a = roc_auc_score(y[keep], x[keep])
            auc[n] = max(a, 1.0 - a)
        except ValueError:  # one class only among the rows with a value
            auc[n] = None
    loop = time.perf_counter() - t0
    bots = int(y.sum())
    print(json.dumps({"rows": int(len(df)), "bots": bots, "humans": int(len(df)) - bots, "load_seconds": load, "auc_seconds": loop, "auc": auc}))


if __name__ == "__main__":
    main()

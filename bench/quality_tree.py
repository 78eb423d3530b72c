"""Quality baseline for `bench/quality.mjs`: the best leaf rule of a depth-3 decision tree.

A data scientist's usual baseline: train sklearn's DecisionTreeClassifier (depth 3) on the
labelled train window, read every leaf as a conjunction of up to three threshold conditions,
and judge each leaf predicting "bot" on the test window by the same gate rulegen uses
(FPR upper 95% Wilson bound, precision, support). Prints JSON.

Debian's sklearn (1.2) has no NaN support in trees: NaN is filled with -1, below every
feature's range, so "x <= t" matches a missing value; that is reported in the output.
Usage: /usr/bin/python3 bench/quality_tree.py DATA.csv FEATURES.yaml CUTOFF_ISO MAX_FPR MIN_PRECISION MIN_SUPPORT
"""
import json
import math
import sys
import time

import numpy as np
import pandas as pd
from sklearn.tree import DecisionTreeClassifier

Z = 1.959963984540054


def wilson_upper(k, n):
    if n == 0:
        return 1.0
    p = k / n
    denom = 1 + Z * Z / n
    centre = (p + Z * Z / (2 * n)) / denom
    half = Z / denom * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    return min(1.0, centre + half)


def catalog_features(path):
    # the catalog is simple YAML; avoid a YAML dependency: read "- name:" and "type:" lines
    feats, name = [], None
    for line in open(path):
        s = line.strip()
        if s.startswith("- name:"):
            name = s.split(":", 1)[1].strip()
        elif s.startswith("type:") and name:
            feats.append((name, s.split(":", 1)[1].strip()))
            name = None
        elif (s.startswith("sensitive: true") or s.startswith("leak: true")) and feats:
            # sensitive, or derived from the label's source (ingest-logs marks the user-agent
            # features so): rulegen's inducer never uses them, so neither does the tree
            feats[-1] = (feats[-1][0], "excluded")
    return [n for n, t in feats if t in ("number", "boolean")]


def main():
    data, catalog, cutoff, max_fpr, min_precision, min_support = sys.argv[1:7]
    max_fpr, min_precision, min_support = float(max_fpr), float(min_precision), int(min_support)
    t0 = time.time()
    df = pd.read_csv(data)
    df["ts"] = pd.to_datetime(df["ts"], utc=True, format="mixed").dt.tz_localize(None)
    feats = catalog_features(catalog)
    X = df[feats].apply(pd.to_numeric, errors="coerce").astype(float).fillna(-1.0).to_numpy()
    y = df["label"].to_numpy(dtype=float)
    cut = pd.Timestamp(cutoff).tz_convert(None) if pd.Timestamp(cutoff).tzinfo else pd.Timestamp(cutoff)
    train = (df["ts"] < cut).to_numpy() & ~np.isnan(y)
    test = (df["ts"] >= cut).to_numpy()
    load = time.time() - t0
    t1 = time.time()
    tree = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X[train], y[train].astype(int))
    t = tree.tree_
    leaves = []

    def walk(node, conds):
        if t.children_left[node] == -1:
            leaves.append(conds)
            return
        f, thr = feats[t.feature[node]], float(t.threshold[node])
        walk(t.children_left[node], conds + [(f, "<=", thr)])
        walk(t.children_right[node], conds + [(f, ">", thr)])

    walk(0, [])
    Xt, yt = X[test], y[test]
    bots, humans = int(np.sum(yt == 1)), int(np.sum(yt == 0))
    results = []
    for conds in leaves:
        mask = np.ones(len(Xt), dtype=bool)
        for f, op, thr in conds:
            col = Xt[:, feats.index(f)]
            mask &= (col <= thr) if op == "<=" else (col > thr)
        tp = int(np.sum(mask & (yt == 1)))
        fp = int(np.sum(mask & (yt == 0)))
        results.append({
            "condition": " and ".join(f"{f} {op} {thr:.6g}" for f, op, thr in conds),
            "tp": tp, "fp": fp,
            "recall": tp / bots if bots else None,
            "precision": tp / (tp + fp) if tp + fp else None,
            "fpr": fp / humans if humans else None,
            "fpr_upper95": wilson_upper(fp, humans),
        })
    leaf_arch, arch_n = None, None
    if "archetype" in df.columns:
        at = df["archetype"].to_numpy()[test]
        arch_n = {str(a): int(np.sum(at == a)) for a in np.unique(at)}
        leaf_arch = []
        for conds in leaves:
            mask = np.ones(len(Xt), dtype=bool)
            for f, op, thr in conds:
                col = Xt[:, feats.index(f)]
                mask &= (col <= thr) if op == "<=" else (col > thr)
            leaf_arch.append({str(a): int(np.sum(mask & (at == a))) for a in np.unique(at)})
    passing = [r for r in results if r["fpr_upper95"] <= max_fpr and (r["precision"] or 0) >= min_precision and r["tp"] >= min_support]
    best = max(passing, key=lambda r: r["recall"]) if passing else None
    print(json.dumps({"load_s": load, "fit_s": time.time() - t1, "leaves": results, "best": best, "bots": bots, "humans": humans,
                      "leaf_arch": leaf_arch, "arch_n": arch_n,
                      "note": "NaN filled with -1 (sklearn 1.2 trees have no NaN support)"}))


main()

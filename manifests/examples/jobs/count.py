"""Counts the words prepare.py wrote."""
import collections
import os

with open(os.environ.get("INPUT", "data/words.txt")) as f:
    counts = collections.Counter(f.read().split())
print(dict(counts.most_common(5)))

"""Writes a small word list for the count job."""
import os

out = os.environ.get("JOB_ARGUMENTS", "--out data/words.txt").split()[-1]
os.makedirs(os.path.dirname(out), exist_ok=True)
with open(out, "w") as f:
    f.write("the quick brown fox jumps over the lazy dog the end\n")

#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Runs a PyTorch twin of examples 08/09 (tools/torch_text_classifier.py, tools/torch_language_id.py)
unchanged, but times its training apart from its per-epoch test evaluation (the twin's per-epoch
`seconds` include the evaluation), so its speed compares with the C++ examples' training time.
Prints training samples per second of wall time and of process CPU time, and adds a "timing" object
to the twin's --json output.

    /usr/bin/python3 examples/08_text_classifier/torch_timing.py tools/torch_text_classifier.py \
        --data text_classifier.npz --seeds 1 2 3 --threads 1 --json torch_08.json
"""
import importlib.util
import json
import os
import sys
import time


def main():
    if len(sys.argv) < 2 or not sys.argv[1].endswith(".py"):
        sys.exit(__doc__)
    script = os.path.abspath(sys.argv[1])
    sys.path.insert(0, os.path.dirname(script))
    spec = importlib.util.spec_from_file_location("twin", script)
    twin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(twin)

    t = {"run_wall": 0.0, "run_cpu": 0.0, "eval_wall": 0.0, "eval_cpu": 0.0, "samples": 0}
    evaluate, run = twin.evaluate, twin.run

    def timed_evaluate(*args, **kwargs):
        w, c = time.perf_counter(), time.process_time()
        r = evaluate(*args, **kwargs)
        t["eval_wall"] += time.perf_counter() - w
        t["eval_cpu"] += time.process_time() - c
        return r

    def timed_run(data, epochs, seed):
        w, c = time.perf_counter(), time.process_time()
        r = run(data, epochs, seed)
        t["run_wall"] += time.perf_counter() - w
        t["run_cpu"] += time.process_time() - c
        t["samples"] += int(data["train"][0].shape[0]) * epochs
        return r

    twin.evaluate, twin.run = timed_evaluate, timed_run  # run() and main() look them up at call time
    sys.argv = [script] + sys.argv[2:]
    rc = twin.main()
    wall, cpu = t["run_wall"] - t["eval_wall"], t["run_cpu"] - t["eval_cpu"]
    timing = {"train_seconds": wall, "train_cpu_seconds": cpu, "train_samples": t["samples"],
              "train_samples_per_second": t["samples"] / wall if wall > 0 else 0.0,
              "train_samples_per_cpu_second": t["samples"] / cpu if cpu > 0 else 0.0,
              "eval_seconds": t["eval_wall"], "eval_cpu_seconds": t["eval_cpu"]}
    print(f"training only (all seeds): {wall:.1f} s wall, {cpu:.1f} s CPU for {t['samples']} samples: "
          f"{timing['train_samples_per_second']:.0f} samples/s, {timing['train_samples_per_cpu_second']:.0f} samples/CPU-s "
          f"(evaluation: {t['eval_wall']:.1f} s wall)")
    if "--json" in sys.argv:
        path = sys.argv[sys.argv.index("--json") + 1]
        with open(path) as f:
            out = json.load(f)
        out["timing"] = timing
        twin.write_json(path, out)
    return rc


if __name__ == "__main__":
    sys.exit(main())

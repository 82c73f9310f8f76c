"""reqlite benchmarks: workloads through the official driver over loopback (see harness.py)."""

"""`make bench`: throughput and latency figures, as ratios against baselines measured in the same run."""

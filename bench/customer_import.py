#!/usr/bin/env python
"""Benchmark the customer import: a generated CSV of N rows (default 100,000) through `manage.py import_customers`.

Writes a file like a brand's CRM export (numbers in mixed formats, attributes, a coupon per customer, 0.5 %
invalid rows, a few repeated numbers), migrates the database named by DATABASE_URL, imports the file into a
bench org, imports it again (nothing changes), then a version with other attributes (most rows update), and prints for each run: wall time, rows/s, the peak
memory of the import process and what the import reported. Run by hand, not in the test suite:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/linktrack_bench .venv/bin/python bench/customer_import.py
"""

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ORG_NAME = "Bench Import Org"
CITIES = ["Pune", "Mumbai", "Delhi", "Bengaluru", "Chennai", "Kolkata", "Hyderabad", "Jaipur"]


def write_file(path: Path, rows: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    styles = ["{n}", "+91{n}", "0{n}", "+91-{a}-{b}", "{a} {b}"]
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write("\ufeffmobile,email,name,external_id,city,tier,coupon_code,coupon_expiry\n")
        for i in range(1, rows + 1):
            number = f"9{i:09d}"
            external_id = f"B{i}"
            if i % 200 == 0:
                mobile = f"12{i}"  # invalid: too short
            elif i % 997 == 0:
                number, external_id = f"9{i - 1:09d}", f"B{i - 1}"  # the previous customer again
                mobile = "+91 " + number
            else:
                mobile = rng.choice(styles).format(n=number, a=number[:5], b=number[5:])
            out.write(
                f"{mobile},customer{i}@bench.test,Customer {i},{external_id},{rng.choice(CITIES)},"
                f"{rng.choice(['gold', 'silver', 'bronze'])},SAVE{i % 100},2026-12-{1 + i % 28:02d}\n"
            )


def run_import(path: Path, batch_size: int) -> tuple[float, int, str]:
    """Import in a fresh process; returns wall time, that process's peak memory (KiB) and its summary line."""
    code = (
        "import resource; from django.core.management import call_command; "
        f"call_command('import_customers', {str(path)!r}, org={ORG_NAME!r}, batch_size={batch_size}, "
        "no_progress=True); "
        "print('PEAK', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    elapsed = time.perf_counter() - started
    lines = result.stdout.splitlines()
    peak_kib = int(next(line for line in lines if line.startswith("PEAK")).split()[1])
    summary = next(line for line in lines if "customers created" in line)
    return elapsed, peak_kib, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    args = parser.parse_args()
    if "DATABASE_URL" not in os.environ:
        sys.exit("Set DATABASE_URL to a database for the benchmark (its data is replaced).")

    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, check=True)
    setup = (
        "from campaigns.models import Org, Customer; "
        f"org, _ = Org.objects.get_or_create(name={ORG_NAME!r}); Customer.objects.filter(org=org).delete()"
    )
    subprocess.run([sys.executable, "manage.py", "shell", "-c", setup], cwd=ROOT, check=True)

    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "customers.csv"
        write_file(path, args.rows)
        changed = Path(directory) / "changed.csv"
        write_file(changed, args.rows, seed=8)  # other cities and tiers: most customers change
        size_mb = path.stat().st_size / 1e6
        print(f"File: {args.rows:,} rows, {size_mb:.1f} MB; batch size {args.batch_size}")
        runs = [
            ("first import (creates)", path),
            ("same file again (nothing changes)", path),
            ("file with new cities and tiers (updates)", changed),
        ]
        for label, file in runs:
            elapsed, peak_kib, summary = run_import(file, args.batch_size)
            print(
                f"{label}: {elapsed:.1f} s, {args.rows / elapsed:,.0f} rows/s, "
                f"peak memory {peak_kib / 1024:.0f} MB\n  {summary}"
            )


if __name__ == "__main__":
    main()

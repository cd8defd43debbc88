"""The benchmark's figures as a table: flows, steps, single endpoints as ratios to bare Django and DRF."""

from __future__ import annotations


def report(results: dict) -> None:
    bare_json = results["bare_json"]["cpu_ms"]
    bare_drf = results["bare_drf"]["cpu_ms"]
    flows = results["flows"]
    if "preload" in results:
        rows = results["preload"]
        print(
            f"\nPreloaded {rows['idp_accesstoken']:,} access tokens and {rows['idp_refreshtoken']:,} refresh "
            f"tokens in {rows['seconds']:.0f} s"
        )
    print(
        f"\nFull flows ({results['config']['database']}, concurrency {results['config']['concurrency']}, "
        f"{results['config']['workers']} gunicorn sync workers)"
    )
    print(
        f"  flows/s {flows['per_second']:.1f}   server CPU per flow {flows['cpu_ms']:.2f} ms "
        f"= {flows['cpu_ms'] / bare_json:.1f} x bare Django request   errors {flows['errors'] or 0}"
    )
    print("  step         p50 ms  p95 ms  p99 ms")
    for step, text in flows["steps"].items():
        print(f"  {step:<11} {text}")
    print("\nSingle endpoints        req/s   CPU ms/req   x bare JSON   x bare DRF   errors")
    rows = {**results["endpoints"], "bare Django JSON": results["bare_json"], "bare DRF": results["bare_drf"]}
    for name, row in rows.items():
        print(
            f"  {name:<20} {row['per_second']:8.1f} {row['cpu_ms']:11.3f} {row['cpu_ms'] / bare_json:12.2f}"
            f" {row['cpu_ms'] / bare_drf:11.2f} {row['errors']:8d}"
        )
    if "cleanup" in results:
        cleanup = results["cleanup"]
        print(
            f"\nmanage.py idp_cleartokens took {cleanup['seconds']:.1f} s (exit {cleanup['exit']}); "
            "meanwhile "
            f"{cleanup['flows_per_second']:.1f} flows/s, {cleanup['cpu_ms']:.2f} ms server CPU per flow, "
            f"errors {cleanup['errors'] or 0}"
        )
        print("  step         p50 ms  p95 ms  p99 ms")
        for step, text in cleanup["steps"].items():
            print(f"  {step:<11} {text}")

"""`make bench`: time the static site against Panel's default convert, the Pyodide floor and panel serve.

    python -m bench [--runs 5] [--profiles loopback,emulated] [--variants ours,baseline,floor,serve]
    python -m bench server [...]      the server-side load test and memory waves (bench/load.py)
    python -m bench smoke             one cold loopback visit of each variant: each must become
                                      live (`make test` runs it; no timings, nothing written)
    python -m bench waves             only its memory over time: 500 sessions in waves of 50
    python -m bench all [...]         `make bench` (its options in Makefile): within 20 minutes,
                                      the browser runs that fit --budget, then waves of
                                      --wave-size until --deadline

Writes bench/results.json (every sample) and bench/results.md (the table README includes). Needs
`make build`. Variants are visited round-robin, run by run, so background load on the machine hits
them alike; each figure is a median with min and max, and the targets are ratios of medians from the
same run. Nothing here is a test: no figure fails the run (`make test` has no timing assertions).
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from bench import baseline, httpd, load
from bench.browser import (
    PROFILES,
    SELFCHECK_HTML,
    SELFCHECK_JS,
    SELFCHECK_SW_HTML,
    SELFCHECK_SW_JS,
    Variant,
    baseline_route,
    first_interaction,
    selfcheck,
    visit,
)
from tools.chromium import CHROMIUM, LAUNCH_ARGS
from tools.servers import panel_serve

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
ART = BENCH / "artifacts"
LABELS = {"alt": "lever under test", "ours": "(a) our build", "baseline": "(b) panel convert",
          "floor": "(c) floor", "serve": "(d) panel serve"}


def stats(values: list) -> dict | None:
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "n": len(values)}


def _selfcheck_files() -> Path:
    folder = ART / "selfcheck"
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in (("selfcheck.html", SELFCHECK_HTML), ("selfcheck.js", SELFCHECK_JS),
                       ("selfcheck_sw.html", SELFCHECK_SW_HTML), ("selfcheck_sw.js", SELFCHECK_SW_JS)):
        (folder / name).write_text(text)
    blob = folder / "5mb.bin"
    if not blob.exists() or blob.stat().st_size != 5_000_000:
        blob.write_bytes(os.urandom(5_000_000))
    return folder


def browser_bench(args) -> dict:
    build = args.ours
    if not (build / "index.html").exists():
        sys.exit("build/ is missing: run `make build` first")
    t0 = time.monotonic()
    desc = baseline.build()
    mounts = {"/ours/": build, "/floor/": BENCH / "floor", "/bench/": _selfcheck_files(),
              **({"/alt/": args.alt} if args.alt else {}), **baseline.mounts(desc)}
    server, base, counter, link = httpd.start(mounts, {"/index.json": baseline.INDEX_TYPE})
    baseline.mirror_index(Path(desc["path"]) / "cdn", f"{base}/mirror")
    samples: dict = {}
    lock = build / "pyodide" / "pyodide-lock.json"
    meta: dict = {"baseline": desc, "setup_seconds": round(time.monotonic() - t0, 1),
                  "ours": {"lock_sha256": hashlib.sha256(lock.read_bytes()).hexdigest()[:16],
                           "bytecode": any(name.endswith(".pyc") for w in build.glob(
                               "pyodide/panel-*.whl") for name in zipfile.ZipFile(w).namelist()),
                           "service_worker": (build / "sw.js").exists()}}
    serving = panel_serve() if "serve" in args.variants else contextlib.nullcontext()
    with serving as served, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        meta["chromium"] = browser.version
        variants = {
            # with its service worker, if the build has one: that is what a second visit uses
            "ours": Variant("ours", f"{base}/ours/", "static", warm="ours" in args.warm,
                            service_workers="allow" if (build / "sw.js").exists() else "block"),
            "baseline": Variant("baseline", f"{base}/baseline/main.html", "static", warm=False,
                                route=baseline_route(f"{base}/mirror")),
            "floor": Variant("floor", f"{base}/floor/", "static", app=False,
                             warm="floor" in args.warm),
            "serve": Variant("serve", served and served.url, "serve", warm="serve" in args.warm),
            "alt": Variant("alt", f"{base}/alt/", "static", warm="alt" in args.warm,
                           service_workers=args.alt_sw),
        }
        chosen = [variants[v] for v in args.variants]
        meta["selfcheck"] = {}
        for profile in args.profiles:
            link.shape(PROFILES[profile])
            meta["selfcheck"][profile] = selfcheck(browser, base)
        done, began = 0, time.monotonic()
        for run in range(args.runs):
            spent = time.monotonic() - t0
            if done and spent + (time.monotonic() - began) / done > args.budget:
                meta["cut"] = f"stopped after {done} of {args.runs} runs: time budget {args.budget} s"
                print(f"[bench] {meta['cut']}", flush=True)
                break
            for profile in args.profiles:
                link.shape(PROFILES[profile])  # the static variants' link (bench/httpd.py)
                order = chosen[run % len(chosen):] + chosen[:run % len(chosen)]
                for variant in order:
                    interact = profile == args.profiles[0] and run == 0 and variant.name in args.interact
                    t = time.monotonic()
                    result = visit(browser, variant, profile, counter, interact=interact)
                    samples.setdefault(variant.name, {}).setdefault(profile, []).append(result)
                    if "failed" in result:
                        print(f"[bench] {profile:8} run {run + 1}/{args.runs} {variant.name:8} "
                              f"FAILED: {result['failed']} {result['console_tail']}", flush=True)
                        continue
                    if variant.kind == "serve":
                        result["server_rss"] = served.rss()
                    if variant.app and variant.name in args.first and run < args.first_runs:
                        result["first"] = first_interaction(browser, variant, profile)
                    print(f"[bench] {profile:8} run {run + 1}/{args.runs} {variant.name:8} "
                          f"cold {result['cold']['tti']:6.2f} s"
                          + (f"  warm {result['warm']['tti']:6.2f} s" if "warm" in result else "")
                          + f"  {result['cold']['bytes'] / 1e6:6.1f} MB"
                          f"/{result['cold']['requests']} req  ({time.monotonic() - t:.0f} s)",
                          flush=True)
            done += 1
        meta["runs_done"] = done
        browser.close()
    server.shutdown()
    meta["browser_seconds"] = round(time.monotonic() - t0, 1)
    return {"meta": meta, "samples": samples}


def summarize(samples: dict) -> dict:
    out: dict = {}
    for name, profiles in samples.items():
        for profile, all_runs in profiles.items():
            runs = [r for r in all_runs if "failed" not in r]
            fig = out.setdefault(name, {}).setdefault(profile, {})
            fig["tti_cold"] = stats([r["cold"]["tti"] for r in runs])
            fig["first_map"] = stats([r["cold"]["map"] for r in runs])
            fig["first_drawn"] = stats([r["cold"].get("drawn") for r in runs])
            fig["tti_warm"] = stats([r["warm"]["tti"] for r in runs if "warm" in r])
            fig["bytes_cold"] = stats([r["cold"]["bytes"] for r in runs])
            fig["requests_cold"] = stats([r["cold"]["requests"] for r in runs])
            fig["bytes_cached"] = stats([r["until_cached"]["bytes"] for r in runs if "until_cached" in r])
            fig["requests_cached"] = stats([r["until_cached"]["requests"] for r in runs
                                            if "until_cached" in r])
            fig["bytes_warm"] = stats([r["warm"]["bytes"] for r in runs if "warm" in r])
            fig["memory"] = stats([r["memory"]["total"] for r in runs])
            fig["first_interaction"] = stats([r["first"].get("answered") for r in runs
                                              if "first" in r])
            fig["failed_visits"] = len(all_runs) - len(runs)
            if any("server_rss" in r for r in runs):
                fig["server_rss"] = stats([r.get("server_rss") for r in runs])
            lat = [r["latency"] for r in runs if "latency" in r]
            for kind in ("click", "indicator"):
                vals = [s["applied"] for r in lat for s in r[kind] if s]
                if vals:
                    fig[f"{kind}_latency"] = stats(vals)
                    fig[f"{kind}_lost"] = sum(1 for r in lat for s in r[kind] if s is None)
    return out


def _med(summary, name, profile, fig):
    s = summary.get(name, {}).get(profile, {}).get(fig)
    return s["median"] if s else None


def _paired(samples: dict, a: str, b: str, profile: str, phase_a="cold", phase_b="cold"):
    """Ratio a/b of time to interactive, run by run (both visits of a run are a minute apart, so
    background load on the machine hits them alike): median, min and max of the per-run ratios."""
    def tti(name, phase):
        return [None if "failed" in r or phase not in r else r[phase]["tti"]
                for r in samples.get(name, {}).get(profile, [])]
    pairs = [x / y for x, y in zip(tti(a, phase_a), tti(b, phase_b), strict=False) if x and y]
    return stats(pairs)


def _scaled(s: dict | None, factor: float) -> dict | None:
    """A figure's median, min and max in other units (bytes to MB)."""
    return s and {k: s[k] * factor for k in ("median", "min", "max")}


def ratios(summary: dict, samples: dict) -> list[dict]:
    def ratio(a, b):
        return {"median": a / b} if a is not None and b else None

    def value(fig):
        return summary.get("ours", {}).get(fig[0], {}).get(fig[1])

    rows = [
        # Issue 19's targets (the service worker allowed); the floor's from an earlier issue.
        ("cold TTI, loopback: ours / baseline", _paired(samples, "ours", "baseline", "loopback"), 0.45),
        ("cold TTI, loopback: ours / floor", _paired(samples, "ours", "floor", "loopback"), 0.6),
        ("cold TTI, 50 Mbit/s: ours / baseline", _paired(samples, "ours", "baseline", "emulated"),
         0.45),
        ("cold TTI, 50 Mbit/s: ours / floor", _paired(samples, "ours", "floor", "emulated"), None),
        ("warm / cold TTI, 50 Mbit/s (ours)",
         _paired(samples, "ours", "ours", "emulated", "warm", "cold"), 0.3),
        ("warm / cold TTI, loopback (ours)",
         _paired(samples, "ours", "ours", "loopback", "warm", "cold"), 0.3),
        ("bytes, cold: ours / baseline",
         ratio(_med(summary, "ours", "loopback", "bytes_cold"),
               _med(summary, "baseline", "loopback", "bytes_cold")), 0.5),
        ("bytes, cold (MB, ours)", _scaled(value(("loopback", "bytes_cold")), 1e-6), 30),
        ("requests, cold (ours)", value(("loopback", "requests_cold")), 60),
        ("first interaction, cold, loopback: ours / baseline cold TTI",
         ratio(_med(summary, "ours", "loopback", "first_interaction"),
               _med(summary, "baseline", "loopback", "tti_cold")), 0.15),
        ("first interaction, cold, loopback (s, ours)", value(("loopback", "first_interaction")),
         2.0),
        ("first interaction, cold, 50 Mbit/s (s, ours)", value(("emulated", "first_interaction")),
         3.0),
        ("first visible map, loopback (s, ours)", value(("loopback", "first_map")), 0.6),
        ("first visible map, 50 Mbit/s (s, ours)", value(("emulated", "first_map")), None),
        ("click → chart (s, ours, median of 20)", value(("loopback", "click_latency")), 0.15),
        ("indicator → chart (s, ours, median of 20)", value(("loopback", "indicator_latency")),
         0.15),
    ]
    return [{"figure": f, "value": v and v["median"], "min": v and v.get("min"),
             "max": v and v.get("max"), "target": t,
             "met": None if v is None or t is None else v["median"] <= t} for f, v, t in rows]


FIGS = [("tti_cold", "cold time to interactive", "s"), ("first_map", "first visible map", "s"),
        ("first_drawn", "first map drawn by BokehJS", "s"),
        ("first_interaction", "first interaction: a click answered, from navigation", "s"),
        ("tti_warm", "warm reload time to interactive", "s"),
        ("bytes_cold", "bytes, cold load", "MB"), ("requests_cold", "requests, cold load", ""),
        ("bytes_cached", "bytes, cold visit until the service worker holds the site", "MB"),
        ("requests_cached", "requests, cold visit until the service worker holds the site", ""),
        ("bytes_warm", "bytes, warm reload", "MB"),
        ("memory", "memory at interactive (page + worker heaps + wasm)", "MB"),
        ("click_latency", "click → updated chart", "ms"),
        ("indicator_latency", "indicator change → updated chart", "ms")]


def _cell(s: dict | None, unit: str) -> str:
    if not s:
        return "–"
    scale, fmt = {"s": (1, "{:.2f}"), "MB": (1e-6, "{:.1f}"), "ms": (1000, "{:.0f}"),
                  "": (1, "{:.0f}")}[unit]
    med, lo, hi = (fmt.format(s[k] * scale) for k in ("median", "min", "max"))
    return f"{med} ({lo}–{hi})"


def markdown(results: dict) -> str:
    summary, meta = results["summary"], results["meta"]
    names = [n for n in LABELS if n in summary]
    lines = []
    for profile in [p for p in PROFILES if any(p in summary[n] for n in names)]:
        title = "loopback" if profile == "loopback" else "emulated 50 Mbit/s, 20 ms RTT"
        lines += [f"**{title}** (median (min–max) of {meta.get('runs')} runs)", "",
                  "| figure | " + " | ".join(LABELS[n] for n in names) + " |",
                  "|---|" + "---|" * len(names)]
        for key, label, unit in FIGS:
            cells = [_cell(summary[n].get(profile, {}).get(key), unit) for n in names]
            if any(c != "–" for c in cells):
                lines.append(f"| {label}{f' ({unit})' if unit else ''} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += ["Targets: time ratios are medians of per-run ratios (min–max), each run visiting "
              "the variants within a minute of each other; latencies are medians of 20.", "",
              "| figure | measured | target | met |", "|---|---|---|---|"]
    for r in results["ratios"]:
        v = "–" if r["value"] is None else f"{r['value']:.2f}" + (
            f" ({r['min']:.2f}–{r['max']:.2f})" if r.get("min") is not None else "")
        t = "–" if r["target"] is None else f"≤ {r['target']}"
        met = {True: "yes", False: "**no**", None: "–"}[r["met"]]
        lines.append(f"| {r['figure']} | {v} | {t} | {met} |")
    sc = meta.get("selfcheck", {}).get("emulated")
    lines += ["", f"Chromium {meta.get('chromium')}, {meta.get('cpus')} cores (load average "
              f"{meta.get('loadavg')} at the start), {meta.get('date')}. "
              + (f"Emulation self-check: a 5 MB fetch from a worker took {sc['seconds']:.2f} s, "
                 f"through a service worker {sc.get('service_worker_seconds', 0):.2f} s "
                 "(≥ 0.8 s required). The 50 Mbit/s link of (a)–(c) is shaped at the bench server "
                 "(DevTools' emulation does not reach a service worker's fetches); (d)'s is "
                 "DevTools'. " if sc else "")
              + "Bytes and requests of (a)–(c) are counted at the bench server; (d) in the browser "
              "context, websocket frames included. The bench server answers like an ordinary static "
              "host: ETag and Last-Modified, no Cache-Control. (a) runs with its service worker. "
              "How the baseline is emulated: bench/baseline.py."]
    if "server" in results:
        lines += ["", results["server"].get("markdown", "")]
    return "\n".join(lines) + "\n"


def write(results: dict) -> None:
    (BENCH / "results.json").write_text(json.dumps(results, indent=1, default=str))
    (BENCH / "results.md").write_text(markdown(results))


def smoke(args: argparse.Namespace) -> int:
    """One cold visit of each variant on loopback; 1 if any did not become live. A variant that
    breaks on a fresh machine (the baseline once could not find micropip) fails `make test`."""
    args.runs, args.profiles, args.warm, args.interact, args.first = 1, ["loopback"], [], [], []
    samples = browser_bench(args)["samples"]
    failed = [name for name in args.variants
              if not samples.get(name, {}).get("loopback")
              or any("failed" in r for r in samples[name]["loopback"])]
    for name in args.variants:
        print(f"[bench smoke] {name}: {'FAILED' if name in failed else 'live'}", flush=True)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("part", nargs="?", default="browser",
                        choices=["browser", "server", "waves", "all", "smoke"])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--profiles", default="loopback,emulated")
    parser.add_argument("--variants", default="ours,baseline,floor,serve")
    parser.add_argument("--warm", default="ours", help="variants that also get a warm reload")
    parser.add_argument("--interact", default="ours,serve",
                        help="variants whose first loopback visit measures 20+20 interactions")
    # Not the baseline by default: inert until Python is live, its first interaction is its cold
    # time to interactive (32.7 s against 28.0 s when it was measured), and the extra visit was a
    # fifth of a run's time.
    parser.add_argument("--first", default="ours,serve",
                        help="variants that also get a cold visit measuring the first interaction")
    parser.add_argument("--first-runs", type=int, default=3,
                        help="runs in which those variants get that visit")
    parser.add_argument("--budget", type=float, default=720,
                        help="seconds: start no new run that would end after this")
    parser.add_argument("--ours", type=Path, default=ROOT / "build", help="the build to measure")
    parser.add_argument("--alt", type=Path, help="A/B a lever: another build, variant 'alt'")
    parser.add_argument("--alt-sw", default="block", help="'allow': alt may use its service worker")
    parser.add_argument("--seconds", type=float, default=120, help="server load test duration")
    parser.add_argument("--wave-size", type=int, default=load.WAVE_SIZE,
                        help="sessions per memory wave")
    parser.add_argument("--deadline", type=float,
                        help="seconds from the start: the memory waves stop before it (at least "
                        "two run); `make bench` sets it so that the whole run takes under 20 min")
    parser.add_argument("--out", type=Path, help="write results here instead of bench/results.*")
    args = parser.parse_args(argv)
    args.profiles = args.profiles.split(",")
    args.variants = args.variants.split(",")
    args.warm, args.interact = args.warm.split(","), args.interact.split(",")
    args.first = args.first.split(",")
    if args.part == "smoke":
        sys.exit(smoke(args))
    old = BENCH / "results.json"
    results = json.loads(old.read_text()) if old.exists() else {}
    start = time.monotonic()
    until = None if args.deadline is None else start + args.deadline
    load_at_start = round(os.getloadavg()[0], 2)
    if args.part in ("browser", "all"):
        part = browser_bench(args)
        results.update(part)
        results["summary"] = summarize(part["samples"])
        results["ratios"] = ratios(results["summary"], part["samples"])
        results["meta"].update({
            "runs": results["meta"].get("runs_done", args.runs), "cpus": os.cpu_count(),
            "loadavg": load_at_start,
            "date": time.strftime("%Y-%m-%d %H:%M"), "python": platform.python_version(),
            "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                     capture_output=True, text=True).stdout.strip()})
    if args.part in ("server", "all"):
        results["server"] = load.run(args.seconds, until=until, wave_size=args.wave_size)
    if args.part == "waves":  # replaces only the waves of the last server run
        server = results.setdefault("server", {})
        server["waves"] = load.memory_waves(size=args.wave_size, until=until)
        server["markdown"] = load.markdown(server)
    if args.part != "waves":  # the waves keep their own date and duration
        results.setdefault("meta", {})["total_seconds"] = round(time.monotonic() - start, 1)
    if args.out:
        args.out.write_text(json.dumps(results, indent=1, default=str))
    else:
        write(results)
    print(markdown(results))


if __name__ == "__main__":
    main()

"""Turns results.json into markdown tables, a PNG chart and docs/benchmarks.md (from a template).

run.py calls ``write_all`` at the end of a run; it also runs alone on a saved results.json:

    python benches/python/report.py docs/benchmarks/results.json --doc docs/benchmarks.md
"""

import argparse
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))

LABELS = {"ours": "oauth2-engine (ours)", "python-oauth2": "python-oauth2 1.1.1",
          "ours-redis": "oauth2-engine (ours), native Redis store",
          "authlib": "Authlib", "oauthlib": "oauthlib", "canned": "canned response (floor)"}
ORDER = ["ours", "python-oauth2", "authlib", "oauthlib", "canned"]
PEERS = ["python-oauth2", "authlib", "oauthlib"]
WORKLOADS = ["client_credentials", "password", "authorization_code", "refresh"]
WORKLOAD_LABELS = {"client_credentials": "client credentials", "password": "password",
                   "authorization_code": "authorization code (both legs)",
                   "refresh": "refresh (rotating)"}
SERVER_LABELS = {"cheroot": "cheroot (pure Python, thread pool)",
                 "waitress": "waitress (pure Python, thread pool)",
                 "granian": "granian (Rust, blocking-thread pool)"}
TARGET_VS = {"python-oauth2": 8.0, "authlib": 5.0}
TARGET_HTTP = 0.90
PENDING = "_pending: ours not measured yet_"


def _libs(results):
    return [k for k in ORDER if k in results.get("libraries", [])]


def _spread(s, fmt="%.1f"):
    return (fmt + " (" + fmt + "–" + fmt + ")") % (s["median"], s["q1"], s["q3"])


def _range(s, fmt="%.1f"):
    return (fmt + " (" + fmt + "–" + fmt + ")") % (s["median"], s["min"], s["max"])


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * len(header)) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def inproc_table(results):
    data = results["inproc"]["us_per_op"]
    rows = []
    for key in _libs(results):
        rows.append([LABELS[key]] + [_spread(data[key][w]) for w in WORKLOADS])
    if "ours" not in data:
        rows.insert(0, [LABELS["ours"]] + [PENDING] * len(WORKLOADS))
    return table(["µs per request, median (IQR)"] + [WORKLOAD_LABELS[w] for w in WORKLOADS],
                 rows)


def speedup_table(results):
    ratios = results["inproc"].get("speedup_of_ours") or {}
    rows = []
    for peer in [p for p in PEERS + ["canned"] if p in _libs(results)]:
        if peer not in ratios:
            rows.append(["ours vs " + LABELS[peer]] + [PENDING] * len(WORKLOADS))
            continue
        cells = []
        for w in WORKLOADS:
            cell = _range(ratios[peer][w], "%.2f") + "×"
            target = TARGET_VS.get(peer)
            if target is not None:
                cell += " ✔" if ratios[peer][w]["median"] >= target else " ✘ (target %g×)" % target
            cells.append(cell)
        label = ("ours vs the floor (canned µs ÷ our µs; 1.00 = no OAuth cost)" if peer == "canned"
                 else "ours vs " + LABELS[peer])
        rows.append([label] + cells)
    return table(["speed-up of ours, per-round ratio: median (min–max)"] +
                 [WORKLOAD_LABELS[w] for w in WORKLOADS], rows)


def threads_table(results):
    data = results["threads"]["ops_per_s"]
    counts = results["threads"]["thread_counts"]
    workloads = results["threads"]["workloads"]
    rows = []
    for key in ["ours", "ours-redis", "python-oauth2"]:
        if key not in data:
            if key == "ours-redis":
                continue
            if key == "ours":
                rows.append([LABELS[key], "any"] + [PENDING] * len(counts))
            continue
        for w in workloads:
            one = data[key][w][str(counts[0])]["median"]
            cells = []
            for c in counts:
                s = data[key][w][str(c)]
                cells.append("%s (×%.2f)" % (_range(s, "%.0f"), s["median"] / one))
            rows.append([LABELS[key], WORKLOAD_LABELS[w]] + cells)
    return table(["library", "workload"] + ["%d thread%s: ops/s median (min–max) (vs 1)" %
                                            (c, "" if c == 1 else "s") for c in counts], rows)


def http_table(results):
    http = results["http"]
    servers = http["servers"]
    rows = []
    keys = _libs(results)
    if "ours" not in keys:
        rows.append([LABELS["ours"]] + [PENDING] * len(servers))
    for key in keys:
        rows.append([LABELS[key]] + [_range(http["requests_per_s"][s][key], "%.0f")
                                     for s in servers])
    ratio_row = ["ours ÷ canned, per round: median (min–max)"]
    for s in servers:
        if s in http.get("ours_over_canned", {}):
            r = http["ours_over_canned"][s]
            ratio_row.append("%s %s" % (_range(r, "%.2f"), "✔" if r["median"] >= TARGET_HTTP
                                        else "✘ (target %.2f)" % TARGET_HTTP))
        else:
            ratio_row.append(PENDING)
    rows.append(ratio_row)
    return table(["requests/s, client credentials"] + [SERVER_LABELS.get(s, s) for s in servers],
                 rows)


def memory_table(results):
    data = results["memory"]
    rows = []
    for key in ["ours", "ours-redis", "python-oauth2"]:
        if key not in data:
            if key == "ours-redis":
                continue
            rows.append([LABELS[key]] + [PENDING] * 6)
            continue
        m = data[key]
        per_token = (m["live_kib"] - m["baseline_kib"]) * 1024.0 / m["tokens"]
        rows.append([LABELS[key], "%d" % m["tokens"], "%.0f" % (m["baseline_kib"] / 1024.0),
                     "%.0f" % (m["live_kib"] / 1024.0), "%.0f" % (m["peak_kib"] / 1024.0),
                     "%.0f" % per_token, "%.1f" % m["fill_seconds"]])
    return table(["library", "live tokens", "RSS before (MiB)", "RSS with the tokens (MiB)",
                  "peak RSS (MiB)", "bytes per token", "seconds to save them"], rows)


def machine_block(results):
    m = results["machine"]
    v = results["versions"]
    any_v = next(iter(v.values()))
    lines = ["- CPU: %s, %d cores (shared with other work: load average %.1f at the start, "
             "%.1f at the end of the run)" % (m["cpu"], m["cores"], m["load_average_at_start"][0],
                                               m.get("load_average_at_end", [0])[0]),
             "- memory: %s GiB; OS: %s, kernel %s" % (m["memory_gib"], m["os"], m["kernel"]),
             "- Python: CPython %s (every venv); load generator: %s" % (any_v["python"],
                                                                       m["wrk"]),
             "- servers: cheroot %s, waitress %s, granian %s" % (
                 any_v.get("cheroot", "?"), any_v.get("waitress", "?"),
                 any_v.get("granian", "?"))]
    measured = [v[key]["library"] for key in _libs(results) if key != "canned"]
    if "ours" in v and "ours_build" in results:
        measured[0] += ", built " + results["ours_build"]
    if "ours" not in v:
        measured.insert(0, "oauth2-engine: " + PENDING)
    lines.append("- libraries: " + ", ".join(measured))
    return "\n".join(lines)


def config_block(results):
    c = dict({"granian_threads": results["config"].get("server_threads")}, **results["config"])
    if "requests" in c:
        inproc = "%(rounds)d rounds × %(requests)d requests per library and workload" % c
    else:
        # Runs before 2026-11-30 03:30 UTC timed each round for a fixed duration.
        inproc = "%(rounds)d rounds × %(duration)g s per library and workload" % c
    return ("in-process: " + inproc + "; threads: "
            "%(thread_rounds)d rounds × %(thread_duration)g s per count (%(thread_counts)s); "
            "loopback: %(http_rounds)d rounds × %(http_duration)d s per library and server, "
            "%(server_threads)d threads for cheroot and waitress, %(granian_threads)d blocking "
            "thread(s) for granian, wrk with %(wrk_threads)d thread(s) and "
            "%(http_connections)d connections; memory: %(tokens)d tokens" % c)


def headline(results):
    ratios = results.get("inproc", {}).get("speedup_of_ours") or {}
    if not ratios:
        return ("Headline ratios are pending: this run had no figures for our package (its "
                "wheel was not buildable yet), only for the peers.")
    parts = []
    for peer in ("python-oauth2", "authlib"):
        if peer in ratios:
            meds = [ratios[peer][w]["median"] for w in WORKLOADS]
            parts.append("%.1f–%.1f× as many%s as %s" % (
                min(meds), max(meds), "" if parts else " requests per second", LABELS[peer]))
    text = "In process, across the four workloads, our package serves " + " and ".join(parts)
    http = results.get("http", {}).get("ours_over_canned", {})
    if http:
        text += "; over loopback HTTP it keeps " + ", ".join(
            "%.1f%% (%s)" % (100 * http[s]["median"], s) for s in results["http"]["servers"]
            if s in http) + \
            " of the canned app's throughput with the same server"
    return text + "."


def targets(results):
    """One line per target of issue 5: met, missed (with the figure), or pending."""
    lines = []
    ratios = results.get("inproc", {}).get("speedup_of_ours") or {}
    for peer, target in TARGET_VS.items():
        if peer not in ratios:
            lines.append("- in process ≥ %g× %s on every workload: pending (ours not measured)"
                         % (target, LABELS[peer]))
            continue
        missed = ["%s %.2f×" % (WORKLOAD_LABELS[w], ratios[peer][w]["median"])
                  for w in WORKLOADS if ratios[peer][w]["median"] < target]
        lines.append("- in process ≥ %g× %s on every workload: %s" % (
            target, LABELS[peer], "**met**" if not missed else "**missed** on " +
            ", ".join(missed)))
    http = results.get("http", {})
    if http.get("ours_over_canned"):
        for server in [s for s in http["servers"] if s in http["ours_over_canned"]]:
            r = http["ours_over_canned"][server]
            lines.append("- over loopback with %s, ≥ %.0f%% of the canned app: %s (%.1f%%)" % (
                server, 100 * TARGET_HTTP, "**met**" if r["median"] >= TARGET_HTTP
                else "**missed**", 100 * r["median"]))
    elif "http" in results:
        lines.append("- over loopback, ≥ %.0f%% of the canned app: pending (ours not measured)"
                     % (100 * TARGET_HTTP))
    th = results.get("threads", {}).get("ops_per_s", {})
    if "ours" in th:
        counts = results["threads"]["thread_counts"]
        for key, store in (("ours", "memory store"), ("ours-redis", "native Redis store")):
            for w, by_count in th.get(key, {}).items():
                one = by_count[str(counts[0])]["median"]
                best = max(by_count[str(c)]["median"] for c in counts)
                lines.append("- throughput grows with threads (%s, %s): %s (best ×%.2f of 1 "
                             "thread)" % (store, WORKLOAD_LABELS[w], "**yes**"
                                          if best > one * 1.1 else "**no**", best / one))
    else:
        lines.append("- throughput grows with threads: pending (ours not measured)")
    return "\n".join(lines)


def chart(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [p for p in ("inproc", "http", "threads") if p in results]
    fig, axes = plt.subplots(1, len(panels), figsize=(6.2 * len(panels), 5.4))
    if len(panels) == 1:
        axes = [axes]
    colours = {"ours": "#1b7837", "ours-redis": "#7fbf7b", "python-oauth2": "#762a83",
               "authlib": "#e08214",
               "oauthlib": "#2166ac", "canned": "#999999"}
    keys = _libs(results)
    for ax, panel in zip(axes, panels):
        if panel == "inproc":
            data = results["inproc"]["us_per_op"]
            width = 0.8 / len(keys)
            for i, key in enumerate(keys):
                meds = [data[key][w]["median"] for w in WORKLOADS]
                low = [m - data[key][w]["min"] for m, w in zip(meds, WORKLOADS)]
                high = [data[key][w]["max"] - m for m, w in zip(meds, WORKLOADS)]
                xs = [j + (i - (len(keys) - 1) / 2) * width for j in range(len(WORKLOADS))]
                ax.bar(xs, meds, width, yerr=[low, high], capsize=2, label=LABELS[key],
                       color=colours[key])
            ax.set_yscale("log")
            ax.set_xticks(range(len(WORKLOADS)))
            ax.set_xticklabels(["client\ncredentials", "password", "authorization\ncode",
                                "refresh"])
            ax.set_ylabel("µs per request (log scale; lower is better)")
            ax.set_title("In process, through WSGI (median, min–max)")
            ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3)
        elif panel == "http":
            http = results["http"]
            servers = http["servers"]
            width = 0.8 / len(keys)
            for i, key in enumerate(keys):
                meds = [http["requests_per_s"][s][key]["median"] for s in servers]
                xs = [j + (i - (len(keys) - 1) / 2) * width for j in range(len(servers))]
                ax.bar(xs, meds, width, label=LABELS[key], color=colours[key])
            ax.set_xticks(range(len(servers)))
            ax.set_xticklabels(servers)
            ax.set_ylabel("requests/s (higher is better)")
            ax.set_title("Loopback HTTP, client credentials, wrk")
        else:
            th = results["threads"]
            for key in th["ops_per_s"]:
                for w in th["workloads"]:
                    ys = [th["ops_per_s"][key][w][str(c)]["median"] for c in th["thread_counts"]]
                    ax.plot(th["thread_counts"], ys, marker="o", color=colours[key],
                            linestyle="-" if w == "client_credentials" else "--",
                            label="%s, %s" % (LABELS[key], WORKLOAD_LABELS[w]))
            ax.set_xticks(th["thread_counts"])
            ax.set_xlabel("threads calling the app")
            ax.set_ylabel("ops/s, all threads (higher is better)")
            ax.set_title("Thread scaling, in process (dashed: password)")
            ax.set_yscale("log")
            ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2)
    fig.suptitle("oauth2-engine benchmarks, %s, %s" % (results["date"],
                                                       results["machine"]["cpu"]), fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_all(results, out_dir, doc_path=None, template_path=None):
    parts = {
        "date": results["date"] + (" (commit %s)" % results["commit"]
                                   if results.get("commit") else ""),
        "runtime": "%.0f s" % results.get("runtime_seconds", 0),
        "machine": machine_block(results),
        "config": config_block(results),
        "headline": headline(results),
        "targets": targets(results),
        "inproc_table": inproc_table(results) if "inproc" in results else PENDING,
        "speedup_table": speedup_table(results) if "inproc" in results else PENDING,
        "threads_table": threads_table(results) if "threads" in results else PENDING,
        "http_table": http_table(results) if "http" in results else PENDING,
        "memory_table": memory_table(results) if "memory" in results else PENDING,
    }
    tables = "\n\n".join("### %s\n\n%s" % (name, parts[name]) for name in
                         ("inproc_table", "speedup_table", "threads_table", "http_table",
                          "memory_table"))
    with open(os.path.join(out_dir, "tables.md"), "w") as handle:
        handle.write("# Benchmark tables, %s\n\n%s\n" % (results["date"], tables))
    chart(results, os.path.join(out_dir, "chart.png"))
    if doc_path:
        with open(template_path or os.path.join(HERE, "benchmarks.md.in")) as handle:
            text = handle.read()
        for name, value in parts.items():
            text = text.replace("{{%s}}" % name, value)
        with open(doc_path, "w") as handle:
            handle.write(text)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("results")
    parser.add_argument("--doc")
    parser.add_argument("--template", default=os.path.join(HERE, "benchmarks.md.in"))
    args = parser.parse_args()
    with open(args.results) as handle:
        results = json.load(handle)
    write_all(results, os.path.dirname(os.path.abspath(args.results)), args.doc, args.template)


if __name__ == "__main__":
    main()

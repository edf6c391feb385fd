"""Import and export speed of ``xner import conll`` / ``xner export`` on SQLite, with peak memory.

Cases:

1. the largest real CoNLL file in the shared data (by sentence count; found by scanning the folder);
2. synthetic CoNLL files of the chosen sizes (default 100,000 and 1,000,000 sentences), generated here, streaming,
   into a temporary folder: 5-30 tokens a sentence, IOB2 PER/ORG/LOC/DATE spans, some non-ASCII tokens.

Each import goes through the real command line (``xner import conll ... --db sqlite:///<fresh temp file> --json``)
in a fresh child process; each synthetic corpus is then exported to CoNLL with ``xner export``, also in a child.
For every child the wall time, CPU time and peak resident memory (``ru_maxrss`` of that one child, from
``os.wait4``) are recorded; the import's own timing (``seconds`` in its JSON report, without interpreter start-up
and schema migration) gives the sentences/s figure. Memory is bounded when the peak for 1M sentences is about the
one for 100k.

Usage::

    .venv/bin/python benchmarks/import_speed.py            # real file + 100k + 1M (a few minutes)
    .venv/bin/python benchmarks/import_speed.py --quick    # real file + 100k
    .venv/bin/python benchmarks/import_speed.py --sizes 10k,200k --no-real --profile

Writes benchmarks/results/import_speed.json (figures, machine, exact command) and prints a markdown table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DEFAULT_DATA, RESULTS, machine, run_child, xner_command

DEFAULT_OUT = RESULTS / "import_speed.json"
CONLL_SUFFIXES = (".txt", ".tsv", ".conll", ".conll02", ".conll03", ".iob", ".bio")

# --- synthetic data ------------------------------------------------------------------------------------------------

WORDS = (
    "the of and to in a is that for it as was with be by on not he this are or his from at which but have an they "
    "you were her she there been one all we their has would when if so no will more can said about into out up "
    "ya da a na ta ce ba su za mu ga sun wanda kuma domin amma shi ita mutane gwamnati shekara ranar "
    "ní ti àti pé fún wọ́n ọjọ́ ìlú ọba ilé iṣẹ́ owó ọ̀rọ̀ ìjọba ṣùgbọ́n "
    "ƙasar ɗan ƙarƙashin ɓangaren ’yan dalilin ƙungiyar "
    "na ya kwa ni wa ku mtu watu serikali mwaka habari kwamba lakini "
    "mu ri ni abantu umwaka leta ariko kandi ngo "
    ", . : ; ( ) \" ' - – 2021 15 3,5 %"
).split()
PER = (
    "Muhammadu Buhari Aisha Bello Chinedu Okafor Ngozi Okonjo-Iweala Adébáyọ̀ Ọlátúndé Fúnmiláyọ̀ Ransome-Kuti "
    "Amina Mohammed Uhuru Kenyatta Paul Kagame Cyril Ramaphosa Wole Ṣóyinká Ɗanjuma Ƙwankwaso Zoë Müller"
).split()
ORG = (
    "INEC APC PDP Majalisar Dinkin Duniya Hukumar Ƙididdiga Bankin Duniya Kamfanin Dangote ECOWAS African Union "
    "Reuters BBC Hausa Ẹgbẹ́ Oṣèlú Chama cha Mapinduzi Umuryango FPR"
).split()
LOC = (
    "Kano Abuja Lagos Ìbàdàn Ọ̀yọ́ Ẹ̀kìtì Kaduna Nairobi Dar es Salaam Kigali Johannesburg Durban Ɓauchi "
    "Zaria Najeriya Kenya Rwanda Afirka ta Kudu São Tomé Côte d’Ivoire"
).split()
MONTHS = "Janairu Fabrairu Maris Afrilu Mayu Yuni Yuli Agusta Satumba Oktoba Nuwamba Disamba Ṣẹẹrẹ Èrèlé".split()
LABELS = ("PER", "ORG", "LOC", "DATE")


def _entity(rng: random.Random, label: str) -> list[str]:
    if label == "DATE":
        shapes = (
            lambda: [str(rng.randint(1, 28)), rng.choice(MONTHS), str(rng.randint(1990, 2024))],
            lambda: [rng.choice(MONTHS), str(rng.randint(1990, 2024))],
            lambda: [str(rng.randint(1990, 2024))],
        )
        return rng.choice(shapes)()
    pool, most = {"PER": (PER, 3), "ORG": (ORG, 4), "LOC": (LOC, 2)}[label]
    return [rng.choice(pool) for _ in range(rng.randint(1, most))]


def synthetic_sentence(rng: random.Random) -> tuple[str, int]:
    """One CoNLL sentence (lines plus a blank line) of 5-30 tokens with 0-3 entity spans; and its token count."""
    length = rng.randint(5, 30)
    spans = rng.choices((0, 1, 2, 3), weights=(30, 35, 25, 10))[0]
    starts = set(rng.sample(range(length), spans))
    lines: list[str] = []
    previous_outside = True
    while len(lines) < length:
        if len(lines) in starts and previous_outside:
            label = rng.choice(LABELS)
            entity = _entity(rng, label)[: length - len(lines)]
            lines.extend(f"{token} {'I' if k else 'B'}-{label}\n" for k, token in enumerate(entity))
            previous_outside = False
        else:
            lines.append(f"{rng.choice(WORDS)} O\n")
            previous_outside = True
    lines.append("\n")
    return "".join(lines), length


def write_synthetic(path: Path, sentences: int, *, seed: int = 13) -> dict:
    """Stream ``sentences`` synthetic sentences to ``path`` (a chunk at a time: constant memory)."""
    rng = random.Random(seed)
    tokens = 0
    started = time.perf_counter()
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        chunk: list[str] = []
        for n in range(sentences):
            text, count = synthetic_sentence(rng)
            chunk.append(text)
            tokens += count
            if len(chunk) == 5000 or n == sentences - 1:
                handle.write("".join(chunk))
                chunk.clear()
    return {"tokens": tokens, "bytes": path.stat().st_size, "generate_seconds": time.perf_counter() - started}


# --- the real file -------------------------------------------------------------------------------------------------


def count_sentences(path: Path) -> tuple[int, int]:
    """Sentences and tokens of a CoNLL file (blank lines and -DOCSTART- separate sentences)."""
    sentences = tokens = 0
    inside = False
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            first = line.split(maxsplit=1)[:1]
            if not first or first[0] == "-DOCSTART-":
                sentences += inside
                inside = False
            else:
                tokens += 1
                inside = True
    return sentences + inside, tokens


def largest_real_file(root: Path) -> tuple[Path, int, int] | None:
    """The CoNLL file with the most sentences under ``root`` (files that xner's probe calls CoNLL)."""
    from xner.errors import XnerError
    from xner.formats.conll import looks_like_conll

    best: tuple[Path, int, int] | None = None
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.suffix.lower() not in CONLL_SUFFIXES or path.stat().st_size < 1000:
            continue
        try:
            if not looks_like_conll(path):
                continue
            sentences, tokens = count_sentences(path)
        except (XnerError, UnicodeDecodeError, OSError):
            continue
        if best is None or sentences > best[1]:
            best = (path, sentences, tokens)
    return best


# --- running and measuring children ----------------------------------------------------------------------------


def file_mib(*paths: Path) -> float:
    return sum(p.stat().st_size for p in paths if p.exists()) / 2**20


def measure(name: str, conll: Path, sentences: int, tokens: int, workdir: Path, *, export: bool) -> dict:
    """Import ``conll`` into a fresh SQLite file through the CLI (and export it back when asked)."""
    slug = "".join(c if c.isalnum() else "_" for c in name)
    db = workdir / f"{slug}.db"
    for stale in (db, db.with_suffix(".db-wal"), db.with_suffix(".db-shm")):
        stale.unlink(missing_ok=True)
    url = f"sqlite:///{db}"
    lang = "xx"
    command = [
        *xner_command(),
        "import",
        "conll",
        str(conll),
        "--corpus",
        "bench",
        "--lang",
        lang,
        "--split",
        "train",
        "--db",
        url,
        "--json",
    ]
    child = run_child(command, workdir)
    if child.returncode != 0:
        raise SystemExit(f"import failed ({shlex.join(command)}):\n{child.stderr_tail}")
    imported = child.report.get("sentences")
    if imported != sentences:
        raise SystemExit(f"{name}: imported {imported} sentences, expected {sentences}")
    seconds = float(child.report["seconds"])
    result = {
        "case": name,
        "file": str(conll),
        "sentences": sentences,
        "tokens": tokens,
        "file_mib": round(file_mib(conll), 1),
        "import": {
            "command": shlex.join(command),
            "seconds_in_xner": round(seconds, 3),
            "wall_seconds": round(child.wall_seconds, 3),
            "cpu_seconds": round(child.cpu_seconds, 3),
            "sentences_per_second": round(sentences / seconds),
            "sentences_per_second_wall": round(sentences / child.wall_seconds),
            "peak_rss_mib": round(child.peak_rss_mib, 1),
            "entities": child.report.get("entities", {}),
        },
        "db_mib": round(file_mib(db, db.with_suffix(".db-wal")), 1),
    }
    if export:
        out = workdir / f"{slug}.export.conll"
        command = [*xner_command(), "export", str(out), "--corpus", "bench", "--format", "conll", "--db", url, "--json"]
        child = run_child(command, workdir)
        if child.returncode != 0:
            raise SystemExit(f"export failed ({shlex.join(command)}):\n{child.stderr_tail}")
        if child.report.get("sentences") != sentences:
            raise SystemExit(f"{name}: exported {child.report.get('sentences')} sentences, expected {sentences}")
        result["export"] = {
            "command": shlex.join(command),
            "wall_seconds": round(child.wall_seconds, 3),
            "cpu_seconds": round(child.cpu_seconds, 3),
            "sentences_per_second_wall": round(sentences / child.wall_seconds),
            "peak_rss_mib": round(child.peak_rss_mib, 1),
            "file_mib": round(file_mib(out), 1),
        }
        out.unlink()
    return result


def profile_import(conll: Path, workdir: Path, top: int = 25) -> str:
    """cProfile of one CLI import (in a child), the functions with the most own time first."""
    db = workdir / "profile.db"
    stats_file = workdir / "import.prof"
    command = [
        sys.executable,
        "-m",
        "cProfile",
        "-o",
        str(stats_file),
        "-m",
        "xner",
        "import",
        "conll",
        str(conll),
        "--corpus",
        "bench",
        "--lang",
        "xx",
        "--split",
        "train",
        "--db",
        f"sqlite:///{db}",
    ]
    child = run_child(command, workdir)
    if child.returncode != 0:
        return f"profile failed:\n{child.stderr_tail}"
    import io
    import pstats

    buffer = io.StringIO()
    stats = pstats.Stats(str(stats_file), stream=buffer)
    stats.sort_stats("tottime").print_stats(top)
    buffer.write("\n--- by cumulative time ---\n")
    stats.sort_stats("cumulative").print_stats(top)
    return f"$ {shlex.join(command)}\n" + buffer.getvalue()


# --- machine and report ------------------------------------------------------------------------------------------


def markdown(results: list[dict]) -> str:
    rows = [
        "| case | sentences | tokens | file MiB | import s (in xner / wall) | import sentences/s | import peak RSS MiB "
        "| DB MiB | export s (wall) | export sentences/s | export peak RSS MiB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        i, e = r["import"], r.get("export")
        export_cells = "– | – | –"
        if e:
            export_cells = f"{e['wall_seconds']:.1f} | {e['sentences_per_second_wall']:,} | {e['peak_rss_mib']:.0f}"
        rows.append(
            f"| {r['case']} | {r['sentences']:,} | {r['tokens']:,} | {r['file_mib']:.1f} | "
            f"{i['seconds_in_xner']:.1f} / {i['wall_seconds']:.1f} | {i['sentences_per_second']:,} | "
            f"{i['peak_rss_mib']:.0f} | {r['db_mib']:.0f} | {export_cells} |"
        )
    return "\n".join(rows)


def parse_size(text: str) -> int:
    text = text.strip().lower().replace("_", "").replace(",", "")
    factor = 1
    if text.endswith("k"):
        factor, text = 1000, text[:-1]
    elif text.endswith("m"):
        factor, text = 1_000_000, text[:-1]
    return int(float(text) * factor)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        default="100k,1M",
        help="synthetic corpus sizes in sentences, comma-separated (k/M suffixes; default 100k,1M)",
    )
    parser.add_argument("--quick", action="store_true", help="only the 100k synthetic size (and the real file)")
    parser.add_argument("--no-real", action="store_true", help="skip the real file")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help=f"shared data folder (default {DEFAULT_DATA})")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="where the synthetic files and databases go (default: a new temp folder, removed after)",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"JSON results (default {DEFAULT_OUT})")
    parser.add_argument("--seed", type=int, default=13, help="random seed of the synthetic data")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also profile one import (the first synthetic size) with cProfile; the top functions "
        "are written beside the JSON as import_profile.txt",
    )
    args = parser.parse_args(argv)
    sizes = [100_000] if args.quick else [parse_size(s) for s in args.sizes.split(",") if s.strip()]

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="xner-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    command = shlex.join([sys.executable, *sys.argv]) if argv is None else shlex.join(["import_speed.py", *argv])
    print(f"$ {command}\nworking in {workdir}", file=sys.stderr)
    results: list[dict] = []
    generated: dict[str, dict] = {}
    profile_text = None
    try:
        if not args.no_real:
            found = largest_real_file(args.data) if args.data.is_dir() else None
            if found is None:
                print(f"no real CoNLL file under {args.data}: skipping the real case", file=sys.stderr)
            else:
                path, sentences, tokens = found
                name = f"real: {path.relative_to(args.data)}"
                print(f"{name}: {sentences:,} sentences", file=sys.stderr)
                results.append(measure(name, path, sentences, tokens, workdir, export=True))
        for size in sizes:
            conll = workdir / f"synthetic_{size}.conll"
            print(f"generating {size:,} synthetic sentences ...", file=sys.stderr)
            info = write_synthetic(conll, size, seed=args.seed)
            generated[str(size)] = info
            print(f"importing {size:,} sentences ({info['bytes'] / 2**20:.0f} MiB) ...", file=sys.stderr)
            results.append(measure(f"synthetic {size:,}", conll, size, info["tokens"], workdir, export=True))
            if args.profile and profile_text is None:
                print("profiling the import ...", file=sys.stderr)
                profile_text = profile_import(conll, workdir)
            conll.unlink()
            for db in workdir.glob("synthetic_*.db*"):
                db.unlink()
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)

    synthetic = [r for r in results if r["case"].startswith("synthetic")]
    memory = {}
    if len(synthetic) >= 2:
        small, large = synthetic[0], synthetic[-1]
        memory = {
            "import_peak_rss_mib": {
                small["case"]: small["import"]["peak_rss_mib"],
                large["case"]: large["import"]["peak_rss_mib"],
            },
            "import_ratio": round(large["import"]["peak_rss_mib"] / small["import"]["peak_rss_mib"], 3),
            "export_ratio": round(large["export"]["peak_rss_mib"] / small["export"]["peak_rss_mib"], 3),
            "size_ratio": round(large["sentences"] / small["sentences"], 1),
        }
    document = {
        "benchmark": "import_speed",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": command,
        "cwd": os.getcwd(),
        "machine": machine(),
        "store": "SQLite file (WAL), fresh per case; one transaction per import",
        "synthetic": {"seed": args.seed, "files": generated},
        "results": results,
        "bounded_memory": memory,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if profile_text:
        (args.out.parent / "import_profile.txt").write_text(profile_text, encoding="utf-8")

    print(markdown(results))
    if memory:
        small, large = synthetic[0], synthetic[-1]
        print(
            f"\npeak RSS of the import: {small['import']['peak_rss_mib']:.0f} MiB "
            f"for {small['sentences']:,} sentences, "
            f"{large['import']['peak_rss_mib']:.0f} MiB for {large['sentences']:,} ({memory['import_ratio']}x for "
            f"{memory['size_ratio']:g}x the data); export: {small['export']['peak_rss_mib']:.0f} / "
            f"{large['export']['peak_rss_mib']:.0f} MiB ({memory['export_ratio']}x)"
        )
    print(f"\nresults: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

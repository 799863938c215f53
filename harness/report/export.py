"""Write the report as markdown, CSV (one line per result) or JSON (the whole ``Report``)."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from pathlib import Path

from harness.report import cells, fleet_cells, shape_cells
from harness.report.document import Report
from harness.report.fleet import Fleet
from harness.report.headline import HEADLINE_TITLE
from harness.report.load import REPORT_KIND
from harness.report.scenarios import MLPERF_NOTE

REPORT_VERSION = 1

CSV_FIELDS = (
    "host",
    "arch",
    "emulated",
    "isa",
    "cpu_model",
    "variant",
    "family",
    "precision",
    "baseline_variant",
    "runtime",
    "input_size",
    "batch",
    "threads",
    "status",
    "n_timings",
    "p50_ms",
    "p90_ms",
    "jitter",
    "throughput_ips",
    "speedup",
    "speedup_ci_low",
    "speedup_ci_high",
    "speedup_rounds",
    "macs_per_image",
    "weight_count",
    "trained_input_size",
    "top1",
    "top1_delta_pt",
    "agreement_with_float",
    "accuracy_gate",
    "mcnemar",
    "model_bytes",
    "peak_rss_bytes",
    "kernel_flags",
    "warnings",
    "error",
    "run_id",
)
# The fleet CSV: one line per machine, (batch, threads) and comparison (a runtime's int8 vs its
# float32, or "fastest": the fastest int8 vs the fastest float32 of any runtime).
FLEET_CSV_FIELDS = (
    "host",
    "arch",
    "cpu_model",
    "isa",
    "int8_dot_product",
    "cpus",
    "input_size",
    "batch",
    "threads",
    "comparison",
    "int8_variant",
    "float_variant",
    "int8_p50_ms",
    "float_p50_ms",
    "outcome",
    "speedup",
    "speedup_ci_low",
    "speedup_ci_high",
    "speedup_rounds",
    "note",
)


def write_text(path: Path, text: str) -> None:
    """Write a report file, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def to_markdown(report: Report) -> str:
    """The console report as GitHub-flavoured markdown."""
    out = [f"# quantbench report\n\n{report.results_used} results from {', '.join(report.sources)}.\n"]
    for model in report.models:  # the model and data block
        out.append(f"- {_escape(model.text)}")
        out += [f"  - {_escape(item.text)}" for item in model.not_made]
    if report.models:
        out.append("")
    if report.headlines:
        out.append(f"## {HEADLINE_TITLE}\n")
        out += [f"- **{_escape(headline.text)}**" for headline in report.headlines]
        out.append("")
    if report.fleet is not None:
        out += _fleet_markdown(report.fleet)
    out.append("## Verdicts: int8 vs float32, same runtime, same machine\n")
    out += [f"- {_escape(verdict.text)}" for verdict in report.verdicts]
    for machine in report.shape_machines:
        out.append(f"\n## {_escape(shape_cells.title(machine))}\n")
        out.append(_table(shape_cells.COLUMNS, shape_cells.rows(machine)))
        out += [f"- {_escape(line)}" for line in shape_cells.caption(machine)]
        out.append(f"\n**{_escape(machine.answer)}**")
    for table in report.tables:
        label, emulation = cells.machine_title(table)
        out.append(f"\n## {_escape(label)}\n")
        if emulation:
            out.append(f"**{emulation}**: rows below are never used in a speed verdict.\n")
        rows = [cells.shaped_machine_cells(row, table) for row in table.rows]
        out.append(_table(cells.machine_columns(table), rows))
        out.append(f"\n{cells.runtime_versions(table)}\n")
        out += [f"- {_escape(cells.NOTE_MARK + ' ' + note.text)}" for note in cells.machine_notes(table)]
    if report.reproductions:
        out.append(f"\n## {cells.reproduction_title(report.shapes_named)}\n")
        rows = [cells.reproduction_cells(item) for item in report.reproductions]
        out.append(_table(cells.REPRODUCTION_COLUMNS, rows))
        out += [f"- {_escape(line)}" for line in cells.reproduction_causes(report.reproductions)]
        out += ["", cells.REPRODUCTION_CAPTION]
    if report.scenario_rows:
        out.append("\n## Scenarios (MLPerf LoadGen's names and stopping rules)\n")
        out.append(
            _table(
                cells.scenario_columns(report.scenario_rows),
                [cells.scenario_cells(row) for row in report.scenario_rows],
            )
        )
        out += [f"- {_escape(verdict.text)}" for verdict in report.scenario_verdicts]
        out += ["", _escape(cells.scenario_caption(report.scenario_rows)), "", MLPERF_NOTE]
    if report.comparison is not None:
        comparison = report.comparison
        out.append(f"\n## Compared with {_escape(', '.join(comparison.old_sources))} (old → new)\n")
        for where, changes in cells.comparison_groups(comparison).items():
            out.append(f"### {_escape(where)}\n")
            out.append(_table(cells.COMPARISON_COLUMNS, [cells.comparison_cells(c) for c in changes]))
        out += [f"- only in old: {_escape(item)}" for item in comparison.only_old]
        out += [f"- only in new: {_escape(item)}" for item in comparison.only_new]
        out += [f"- WARNING: {_escape(item)}" for item in comparison.file_warnings]
    out.append("\n## Notes\n")
    out.append(f"- Merge rule: {report.merge_rule}; {report.superseded} older result(s) set aside.")
    out += [f"- WARNING: {_escape(warning)}" for warning in report.file_warnings]
    out += [f"- {_escape(definition)}" for definition in report.definitions]
    return "\n".join(out) + "\n"


def to_csv(report: Report) -> str:
    """One line per result row with raw (unformatted) numbers."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for table in report.tables:
        for row in table.rows:
            speedup = row.speedup
            writer.writerow(
                {
                    "host": table.host,
                    "arch": table.arch,
                    "emulated": table.emulated,
                    "isa": table.isa,
                    "cpu_model": table.cpu_model,
                    **{name: getattr(row, name) for name in CSV_FIELDS if hasattr(row, name)},
                    "p50_ms": _scaled(row.p50_s),
                    "p90_ms": _scaled(row.p90_s),
                    "speedup": speedup.ratio if speedup else None,
                    "speedup_ci_low": speedup.low if speedup else None,
                    "speedup_ci_high": speedup.high if speedup else None,
                    "speedup_rounds": speedup.rounds if speedup else None,
                    "kernel_flags": "; ".join(row.kernel_flags),
                    "mcnemar": "; ".join(
                        f"{t.reference} b={t.only_reference_right} c={t.only_variant_right} p={t.p_value:.4g}"
                        for t in row.accuracy_tests
                    ),
                    "warnings": "; ".join(row.warnings),
                }
            )
    return buffer.getvalue()


def to_fleet_csv(fleet: Fleet) -> str:
    """The fleet view with raw (unformatted) numbers, in FLEET_CSV_FIELDS."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=FLEET_CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in fleet.rows:
        machine = {name: getattr(row, name) for name in FLEET_CSV_FIELDS[:6]}
        for setting in row.settings:
            for cell in [*setting.runtimes, *([setting.fastest] if setting.fastest else [])]:
                speedup = cell.speedup
                writer.writerow(
                    {
                        **machine,
                        "input_size": setting.input_size,
                        "batch": setting.batch,
                        "threads": setting.threads,
                        "comparison": cell.name,
                        "int8_variant": cell.int8_variant,
                        "float_variant": cell.float_variant,
                        "int8_p50_ms": _scaled(cell.int8_p50_s),
                        "float_p50_ms": _scaled(cell.float_p50_s),
                        "outcome": cell.outcome,
                        "speedup": speedup.ratio if speedup else None,
                        "speedup_ci_low": speedup.low if speedup else None,
                        "speedup_ci_high": speedup.high if speedup else None,
                        "speedup_rounds": speedup.rounds if speedup else None,
                        "note": cell.note,
                    }
                )
    return buffer.getvalue()


def to_json(report: Report) -> str:
    """The whole report; ``kind`` lets the loader skip it when it sits among results."""
    payload = {"kind": REPORT_KIND, "report_version": REPORT_VERSION, **dataclasses.asdict(report)}
    return json.dumps(payload, indent=1, ensure_ascii=False) + "\n"


def _fleet_markdown(fleet: Fleet) -> list[str]:
    out = [f"## {_escape(fleet_cells.SPEEDUP_TITLE)}\n"]
    out.append(_table(fleet_cells.speedup_columns(fleet), fleet_cells.speedup_rows(fleet)))
    out += [f"- {_escape(line)}" for line in fleet_cells.speedup_caption(fleet)]
    out.append(f"\n## {_escape(fleet_cells.FASTEST_TITLE)}\n")
    out.append(_table(fleet_cells.fastest_columns(fleet), fleet_cells.fastest_rows(fleet)))
    return out


def _table(columns: tuple[tuple[str, str], ...], rows: list[list[str]]) -> str:
    header = "| " + " | ".join(name for name, _ in columns) + " |"
    rule = "|" + "|".join("---:" if justify == "right" else "---" for _, justify in columns) + "|"
    body = ["| " + " | ".join(_escape(cell) for cell in row) + " |" for row in rows]
    return "\n".join([header, rule, *body]) + "\n"


def _escape(text: str) -> str:
    # "|" ends a table cell and "*" starts emphasis in markdown.
    return text.replace("|", "\\|").replace("*", "\\*")


def _scaled(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000.0

"""``hayate calibrate``: fit a twin's settings to what the live venue did in a shadow run.

From the run directory of a shadow run (its journal and its tape):

1. **Latencies.** The live venue's observations in ``latency_samples`` give the paper
   exchange's four latency settings: ``entry`` (sent -> the venue's time of the first
   report), ``cancel`` (cancels and amends: sent -> the venue's time of the report showing
   it), ``response`` (venue time -> heard, every report) and ``market_data`` (venue time ->
   received, the twin's sources). Each is fitted by :func:`.latency_fit.fit_latency`. When
   the venue's timestamps are whole milliseconds (Bybit's), each observation is moved by
   half a millisecond towards the truth (the venue's time is rounded down).
2. **Queue model** (and ``partial_fills``). The tape is replayed (:func:`.tape_replay.replay`)
   through each candidate of :data:`QUEUE_GRID` x :data:`PARTIAL_FILLS`, every request
   arriving after the latency the live venue showed for it (so latency noise is the same
   for every candidate), over ``seeds`` seeds; the candidate whose filled quantities are
   closest to the live venue's, order by order, wins (fill-quantity error = sum |live
   filled - twin filled| / sum order size). Candidates within
   :data:`FILL_ERROR_TOLERANCE` of the least error are told apart by when they fill (the
   mean gap between the live venue's and the twin's first fill of an order, venue time),
   then by outcome agreement, then the simpler one wins (the twin's own ``partial_fills``,
   the conservative model, a power nearer 1).
3. **Check.** The tape is replayed with the settings the twin ran with (this reproduces the
   run's twin) and with the fitted settings (latency draws, not the observed latencies):
   the fragment's comments show both against the live venue.

The result is a ``[executors.<twin id>]`` table (TOML) to paste into the bot spec, with the
goodness of fit as comments, and the same as JSON.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from hayate.actions import AmendOrder, CancelOrder, PlaceOrder
from hayate.shadow.outcomes import ShadowOrder
from hayate.shadow.tape import TAPE_FILE, TapeAction
from hayate_paper.calibration.latency_fit import LatencyFit, fit_latency
from hayate_paper.calibration.tape_replay import Tape, load_tape, replay

__all__ = ["PARTIAL_FILLS", "QUEUE_GRID", "Calibration", "CalibrationError", "Candidate", "Score",
           "calibrate", "write_outputs"]

QUEUE_GRID: tuple[tuple[str, float], ...] = (
    ("conservative", 1.0),
    *(("probabilistic", p) for p in (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)),
)
"""Queue-model candidates: (queue_model, queue_power)."""

PARTIAL_FILLS = (True, False)
"""``partial_fills`` candidates: each queue model is tried with both."""

_SETTINGS = {"entry": ("entry",), "cancel": ("cancel", "amend"), "response": ("response",)}
OVERTAKEN_TOLERANCE = 0.01
"""More requests than this share overtaking earlier ones: ``latency.ordered = false``."""
FILL_ERROR_TOLERANCE = 0.002
"""Queue-model candidates whose fill-quantity error is this close to the least one are
told apart by when they fill (the mean gap between the live and the twin's first fill)."""
FILL_TIME_TOLERANCE_MS = 1.0
"""First fills within this (or 10 % of the best) of the best candidate's count as as good."""
AGREEMENT_TOLERANCE = 0.01
"""Outcome agreements this close count as as good: the simplest candidate then wins."""
_MS = 1_000_000
_ZERO = Decimal(0)


class CalibrationError(Exception):
    """The run directory cannot be calibrated from (says why)."""


@dataclass
class Score:
    """A twin's outcomes against the live venue's, over the orders both know."""

    orders: int = 0
    agreement: float = 0.0
    fill_error: float = 0.0
    fill_ratio_live: float = 0.0
    fill_ratio_twin: float = 0.0
    fill_time_error_ms: float | None = None  # mean |first fill, twin - live|, venue time

    def as_dict(self) -> dict[str, Any]:
        return {"orders": self.orders, "agreement": round(self.agreement, 4),
                "fill_qty_error": round(self.fill_error, 4),
                "fill_time_error_ms": None if self.fill_time_error_ms is None
                else round(self.fill_time_error_ms, 3),
                "fill_ratio": {"live": round(self.fill_ratio_live, 4),
                               "twin": round(self.fill_ratio_twin, 4)}}

    @staticmethod
    def mean(scores: list[Score]) -> Score:
        n = len(scores)
        times = [s.fill_time_error_ms for s in scores if s.fill_time_error_ms is not None]
        return Score(scores[0].orders, sum(s.agreement for s in scores) / n,
                     sum(s.fill_error for s in scores) / n,
                     sum(s.fill_ratio_live for s in scores) / n,
                     sum(s.fill_ratio_twin for s in scores) / n,
                     sum(times) / len(times) if times else None)


@dataclass(frozen=True)
class Candidate:
    queue_model: str
    queue_power: float
    partial_fills: bool

    @property
    def label(self) -> str:
        q = self.queue_model if self.queue_model == "conservative" else \
            f"{self.queue_model} p={self.queue_power:g}"
        return q + ("" if self.partial_fills else ", whole fills")


@dataclass
class Calibration:
    run_dir: Path
    run_id: int
    twin: str
    venue: str
    sources: list[str]
    orders: int
    latency: dict[str, LatencyFit | None]
    grid: list[tuple[Candidate, Score]]
    best: Candidate
    as_run: Score
    fitted: Score
    base: dict[str, Any] = field(default_factory=dict)  # the twin's settings as it ran
    seeds: int = 3
    overtaken: float = 0.0  # share of requests that reached the venue before an earlier one
    ordered: bool = True

    def settings(self) -> dict[str, Any]:
        """The fitted ``paper.exchange`` settings (a latency without observations keeps
        the twin's setting)."""
        lat = dict(self.base.get("latency") or {})
        for name, fit in self.latency.items():
            if fit is not None:
                lat[name] = fit.spec["value"] if fit.spec["dist"] == "constant" else dict(fit.spec)
        lat["ordered"] = self.ordered
        return {"queue_model": self.best.queue_model, "queue_power": self.best.queue_power,
                "partial_fills": self.best.partial_fills,
                "own_depletion": self.base.get("own_depletion", "persist"),
                "fill_on_cross": self.base.get("fill_on_cross", True), "latency": lat}

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_dir": str(self.run_dir), "run_id": self.run_id, "twin": self.twin,
            "venue": self.venue, "orders": self.orders, "settings": self.settings(),
            "latency": {k: None if f is None else {
                "dist": f.spec["dist"], "spec": f.spec, "n": f.n, "ks": f.ks,
                "candidates": f.candidates, "observed_ms": f.observed_ms,
                "fitted_ms": f.fitted_ms, "clamped": f.clamped, "shift_ms": f.shift_ms}
                for k, f in self.latency.items()},
            "queue_grid": [{"queue_model": c.queue_model, "queue_power": c.queue_power,
                            "partial_fills": c.partial_fills, **s.as_dict()}
                           for c, s in self.grid],
            "as_run": self.as_run.as_dict(), "fitted": self.fitted.as_dict(), "seeds": self.seeds,
            "overtaken": round(self.overtaken, 4),
        }

    def fragment(self) -> str:
        """The ``[executors.<twin>]`` table, goodness of fit in comments."""
        s = self.settings()
        lines = [
            f"# Fitted by `hayate calibrate {self.run_dir}` to journal run {self.run_id}: what",
            f"# executor {self.venue!r} did with {self.orders} orders, replayed from {TAPE_FILE}.",
            "# Paste it into the bot spec (it replaces the twin's table) and run again: the next",
            "# divergence report shows how close the twin comes.",
            "#",
            "# Queue model and partial fills, on a replay with each request's observed latency",
            "# (error = sum |live - twin filled| / order size; first fill off by = mean gap",
            "# between the live and the twin's first fill of an order, venue time; agreement =",
            f"# share of orders with the same outcome; mean of {self.seeds} seeds):",
        ]
        for c, sc in self.grid:
            mark = "  <- chosen" if c == self.best else ""
            timing = "-" if sc.fill_time_error_ms is None else f"{sc.fill_time_error_ms:.1f} ms"
            lines.append(f"#   {c.label:<35} error {sc.fill_error:.4f}  first fill off by "
                         f"{timing:>9}  agreement {sc.agreement:.3f}{mark}")
        lines += [
            f"# The twin as it ran: error {self.as_run.fill_error:.4f}, agreement "
            f"{self.as_run.agreement:.3f}, fill ratio {self.as_run.fill_ratio_twin:.3f} "
            f"(live {self.as_run.fill_ratio_live:.3f}).",
            f"# These settings, replayed with latency draws: error {self.fitted.fill_error:.4f}, "
            f"agreement {self.fitted.agreement:.3f}, fill ratio {self.fitted.fill_ratio_twin:.3f}.",
            f"[executors.{self.twin}]",
            'type = "paper.exchange"',
            f'shadow_of = "{self.venue}"',
            f'source = "{self.sources[0]}"',
            f'queue_model = "{s["queue_model"]}"',
            f"queue_power = {s['queue_power']:g}",
            f"partial_fills = {'true' if s['partial_fills'] else 'false'}",
            f'own_depletion = "{s["own_depletion"]}"',
            f"fill_on_cross = {'true' if s['fill_on_cross'] else 'false'}",
            "",
            f"[executors.{self.twin}.latency]",
            "# Kolmogorov-Smirnov distance of each candidate (0 = a perfect fit); quantiles",
            "# p10/p50/p90/p99 in ms, observed -> fitted.",
        ]
        for name in ("entry", "cancel", "response", "market_data"):
            fit = self.latency.get(name)
            if fit is None:
                lines.append(f"# {name}: no observations, the twin's setting is kept")
                continue
            cands = ", ".join(f"{k} {v:.3f}" for k, v in fit.candidates.items())
            obs = "/".join(f"{v:g}" for v in fit.observed_ms.values())
            fitted = "/".join(f"{v:g}" for v in fit.fitted_ms.values())
            notes = f"n {fit.n}, KS {cands}; {obs} -> {fitted}"
            if fit.shift_ms:
                notes += f"; shifted {fit.shift_ms:+g} ms (ms timestamps)"
            if fit.clamped:
                notes += f"; {fit.clamped} below 0 taken as 0"
            lines.append(f"# {name}: {notes}")
            lines.append(f"{name} = {fit.toml()}")
        lines.append(f"# {self.overtaken:.1%} of the requests reached the venue before one sent "
                     "earlier" + ("" if self.ordered else ": not one ordered line"))
        lines.append(f"ordered = {'true' if self.ordered else 'false'}")
        return "\n".join(lines) + "\n"


# -- the run's observations --------------------------------------------------------------------

@dataclass
class _Observed:
    run_id: int
    latencies: dict[str, list[int]]
    latency_ts: dict[str, list[int]]
    market_data: list[int]
    market_data_ts: list[int]
    per_order: dict[tuple[str, str], int]
    live: dict[str, tuple[str, Decimal, Decimal]]
    first_fill: dict[str, int]  # live venue time of each order's first fill


def _read_journal(path: Path, twin: str, venue: str, sources: list[str],
                  run_id: int | None) -> _Observed:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        if run_id is None:
            row = conn.execute("SELECT max(run_id) FROM shadow_orders WHERE twin = ?",
                               (twin,)).fetchone()
            run_id = row[0] if row else None
        if run_id is None:
            raise CalibrationError(f"{path} has no shadow orders of twin {twin!r}")
        lat: dict[str, list[int]] = {}
        lat_ts: dict[str, list[int]] = {}
        per_order: dict[tuple[str, str], int] = {}
        for kind, cid, value, ts in conn.execute(
                "SELECT kind, client_id, value_ns, ts FROM latency_samples"
                " WHERE run_id = ? AND source = ? ORDER BY id", (run_id, venue)):
            lat.setdefault(kind, []).append(int(value))
            lat_ts.setdefault(kind, []).append(int(ts))
            key = {"entry": "place", "cancel": "cancel", "amend": "amend"}.get(kind)
            if key is not None:
                per_order.setdefault((key, cid), int(value))
        marks = ",".join("?" * len(sources))
        md = conn.execute(f"SELECT value_ns, ts FROM latency_samples WHERE run_id = ? AND kind ="
                          f" 'market_data' AND source IN ({marks})", (run_id, *sources)).fetchall()
        live = {cid: (outcome, Decimal(filled), Decimal(qty)) for cid, outcome, filled, qty in
                conn.execute("SELECT client_id, live_outcome, live_filled_qty, qty FROM"
                             " shadow_orders WHERE run_id = ? AND twin = ?", (run_id, twin))}
        first_fill = dict(conn.execute(
            "SELECT client_id, min(ts) FROM shadow_fills WHERE run_id = ? AND twin = ? AND"
            " venue_kind = 'live' GROUP BY client_id", (run_id, twin)).fetchall())
    except sqlite3.OperationalError as e:
        raise CalibrationError(f"{path}: not a journal with shadow tables ({e})") from None
    finally:
        conn.close()
    return _Observed(run_id, lat, lat_ts, [int(v) for v, _ in md], [int(t) for _, t in md],
                     per_order, live, first_fill)


def _rounded(venue_ts: list[int], values: list[int], local_sign: int) -> bool:
    """Whether the venue's timestamps are rounded down to whole milliseconds while the
    bot's clock is finer (Bybit): then each observation is off by up to 1 ms. The bot's
    time of an observation is ``ts + local_sign * value`` (received: +, sent: -). In a
    simulation both clocks may sit on whole milliseconds: nothing is rounded there."""
    if not venue_ts:
        return False
    on_ms = sum(1 for t in venue_ts if t % _MS == 0)
    local_on_ms = sum(1 for t, v in zip(venue_ts, values, strict=True)
                      if (t + local_sign * v) % _MS == 0)
    return on_ms >= 0.95 * len(venue_ts) and local_on_ms < 0.5 * len(venue_ts)


def score(live: Mapping[str, tuple[str, Decimal, Decimal]], twin: Mapping[str, ShadowOrder],
          first_fill: Mapping[str, int] | None = None) -> Score:
    n = same = 0
    err = qty = lf_sum = tf_sum = _ZERO
    dt_sum = dt_n = 0
    for cid, (lo, lf, q) in live.items():
        o = twin.get(cid)
        if o is None:
            continue
        to = o.twin.outcome(o)
        if lo == "unknown" or to == "unknown":
            continue
        tf = o.twin.filled_qty
        t_live = first_fill.get(cid) if first_fill else None
        if t_live is not None and o.twin.first_fill_ts is not None:
            dt_sum += abs(o.twin.first_fill_ts - t_live)
            dt_n += 1
        n += 1
        same += lo == to
        err += abs(lf - tf)
        qty += q
        lf_sum += lf
        tf_sum += tf
    if not n or not qty:
        return Score(n)
    return Score(n, same / n, float(err / qty), float(lf_sum / qty), float(tf_sum / qty),
                 dt_sum / dt_n / 1e6 if dt_n else None)


# -- the fit -----------------------------------------------------------------------------------

def calibrate(run_dir: Path, twin: str | None = None, *, seeds: int = 3,
              run_id: int | None = None) -> Calibration:
    run_dir = Path(run_dir)
    tape_path = run_dir / TAPE_FILE
    journal = run_dir / "journal.sqlite"
    if not run_dir.is_dir():
        raise CalibrationError(f"{run_dir} is not a directory: calibration needs the --out "
                               "directory of a run with shadow mode on")
    for p, what in ((tape_path, "the shadow tape"), (journal, "the journal")):
        if not p.exists():
            raise CalibrationError(f"{run_dir} has no {p.name} ({what}): calibration needs the "
                                   "--out directory of a run with shadow mode on")
    try:
        tape: Tape = load_tape(tape_path)
    except (ValueError, OSError) as e:
        raise CalibrationError(str(e)) from None
    twins = list(tape.header.twins)
    if twin is None:
        if len(twins) != 1:
            raise CalibrationError(f"the run has {len(twins)} twins ({', '.join(twins)}): "
                                   "name one with --twin")
        twin = twins[0]
    elif twin not in tape.header.twins:
        raise CalibrationError(f"no twin {twin!r} in this run (twins: {', '.join(twins)})")
    info = tape.twin(twin)
    venue, sources, base = info["venue"], list(info["sources"]), dict(info["settings"])
    obs = _read_journal(journal, twin, venue, sources, run_id
                        if run_id is not None else tape.header.run_id)
    if tape.header.run_id is not None and obs.run_id != tape.header.run_id:
        raise CalibrationError(f"the tape holds journal run {tape.header.run_id}, not run "
                               f"{obs.run_id}: calibrate the run the tape was recorded in")
    if not obs.live:
        raise CalibrationError("the run compared no orders: nothing to fit")

    fits: dict[str, LatencyFit | None] = {}
    for name, kinds in _SETTINGS.items():
        values = [v for k in kinds for v in obs.latencies.get(k, [])]
        ts = [t for k in kinds for t in obs.latency_ts.get(k, [])]
        sign = 1 if name == "response" else -1
        # A rounded-down venue time makes "sent -> venue" short and "venue -> heard" long
        # by half a millisecond on average.
        shift = -sign * (_MS // 2) if _rounded(ts, values, sign) else 0
        fits[name] = fit_latency(name, values, shift)
    md_shift = -(_MS // 2) if _rounded(obs.market_data_ts, obs.market_data, 1) else 0
    fits["market_data"] = fit_latency("market_data", obs.market_data, md_shift)
    # Each request's observed latency, moved like the fits.
    shifts = {"place": fits["entry"].shift_ms if fits["entry"] else 0.0,
              "cancel": fits["cancel"].shift_ms if fits["cancel"] else 0.0}
    shifts["amend"] = shifts["cancel"]
    oracle = {k: v + round(shifts[k[0]] * _MS) for k, v in obs.per_order.items()}

    overtaken = _overtaken(tape, venue, oracle)
    fitted_latency = dict(base.get("latency") or {})
    for name, fit in fits.items():
        if fit is not None:
            fitted_latency[name] = fit.spec["value"] if fit.spec["dist"] == "constant" \
                else dict(fit.spec)
    # Requests that overtook earlier ones: the venue (or the executor in front of it) does
    # not keep one ordered line.
    fitted_latency["ordered"] = overtaken <= OVERTAKEN_TOLERANCE
    observed_latency = {**fitted_latency, "ordered": False}  # each arrives when it did
    common = {k: base[k] for k in ("partial_fills", "own_depletion", "fill_on_cross") if k in base}
    live = obs.live
    own_partial = bool(base.get("partial_fills", True))
    candidates = [Candidate(m, p, pf) for pf in (own_partial, not own_partial)
                  for m, p in QUEUE_GRID if pf in PARTIAL_FILLS]
    grid: list[tuple[Candidate, Score]] = []
    for cand in candidates:
        settings = {**common, "latency": observed_latency, "queue_model": cand.queue_model,
                    "queue_power": cand.queue_power, "partial_fills": cand.partial_fills}
        scores = [score(live, replay(tape, twin, settings, seed=s, latencies=oracle, only=live),
                        obs.first_fill) for s in range(seeds)]
        grid.append((cand, Score.mean(scores)))

    def simplicity(c: Candidate) -> tuple[int, int, float]:
        return (c.partial_fills != own_partial, c.queue_model != "conservative",
                abs(c.queue_power - 1.0))

    best = _choose(grid, simplicity)
    as_run_settings = {k: v for k, v in base.items() if k != "seed"}
    as_run = score(live, replay(tape, twin, as_run_settings, seed=int(base.get("seed", 0)),
                                only=live), obs.first_fill)
    chosen = {**common, "latency": fitted_latency, "queue_model": best.queue_model,
              "queue_power": best.queue_power, "partial_fills": best.partial_fills}
    fitted = Score.mean([score(live, replay(tape, twin, chosen, seed=s, only=live),
                               obs.first_fill) for s in range(seeds)])
    return Calibration(run_dir=run_dir, run_id=obs.run_id, twin=twin, venue=venue,
                       sources=sources, orders=len(live), latency=fits, grid=grid,
                       best=best, as_run=as_run, fitted=fitted,
                       base=base, seeds=seeds, overtaken=overtaken,
                       ordered=bool(fitted_latency["ordered"]))


def _choose(grid: list[tuple[Candidate, Score]],
            simplicity: Callable[[Candidate], tuple[int, int, float]]) -> Candidate:
    """The least fill-quantity error; among those as good (within the tolerances), the
    earliest-right first fills, then the best agreement, then the simplest candidate: a
    difference smaller than the tolerances is noise, not evidence for a model."""
    least = min(sc.fill_error for _, sc in grid)
    near = [g for g in grid if g[1].fill_error <= least + FILL_ERROR_TOLERANCE]
    timed = [g[1].fill_time_error_ms for g in near if g[1].fill_time_error_ms is not None]
    if timed:
        best_t = min(timed)
        slack = max(FILL_TIME_TOLERANCE_MS, 0.1 * best_t)
        near = [g for g in near if g[1].fill_time_error_ms is not None
                and g[1].fill_time_error_ms <= best_t + slack]
    top = max(g[1].agreement for g in near)
    near = [g for g in near if g[1].agreement >= top - AGREEMENT_TOLERANCE]
    return min(near, key=lambda g: simplicity(g[0]))[0]


def _overtaken(tape: Tape, venue: str, latencies: Mapping[tuple[str, str], int]) -> float:
    """Share of the requests with an observed latency that reached the venue before a
    request sent earlier did."""
    arrivals = []
    for rec in tape.records:
        if isinstance(rec, TapeAction) and rec.venue == venue:
            a = rec.action
            kind = ("place" if isinstance(a, PlaceOrder) else "cancel"
                    if isinstance(a, CancelOrder) else "amend" if isinstance(a, AmendOrder)
                    else "")
            lat = latencies.get((kind, getattr(a, "client_id", "")))
            if lat is not None:
                arrivals.append((rec.sent, rec.sent + lat))
    arrivals.sort()
    latest = -1
    overtaking = 0
    for _, arrive in arrivals:
        if arrive < latest:
            overtaking += 1
        latest = max(latest, arrive)
    return overtaking / len(arrivals) if arrivals else 0.0


def write_outputs(cal: Calibration, out: Path | None = None) -> tuple[Path, Path]:
    """``calibration.toml`` (the fragment) and ``calibration.json`` beside it."""
    toml_path = Path(out) if out is not None else cal.run_dir / "calibration.toml"
    toml_path.write_text(cal.fragment(), encoding="utf-8")
    json_path = toml_path.with_suffix(".json")
    json_path.write_text(json.dumps(cal.as_dict(), indent=2) + "\n", encoding="utf-8")
    return toml_path, json_path

"""The report's section for a model the user brought (import.json): how it became
int8, and the error each layer adds (SQNR, cosine) with the worst layer named."""
from __future__ import annotations

from . import plots
from .doc import Block, Figure, Heading, Para, Table
from .fmt import DASH

PLOT_FILE = "quantization_sqnr.png"


def _db(v) -> str:
    return f"{v:.1f} dB" if isinstance(v, (int, float)) else DASH


def figure(imp: dict | None) -> Figure | None:
    layers = ((imp or {}).get("triage") or {}).get("layers") or []
    png = plots.layer_sqnr(layers)
    return Figure(PLOT_FILE, png, "SQNR each layer adds, float vs int8") if png else None


def blocks(imp: dict | None, fig: Figure | None) -> list[Block]:
    if not imp or not imp.get("calibration"):
        return []          # a full-int8 model the user brought: nothing was converted
    out: list[Block] = [Heading(2, "Your model, quantized"),
                        Para(f"{imp.get('source') or 'the model'} ({imp.get('format')}) was converted to full "
                             f"int8 (per-channel weights, int8 input and output) on "
                             f"{imp['calibration']}, {imp.get('calibration_samples')} samples.")]
    if imp.get("calibration_random"):
        out.append(Para("Calibrated on RANDOM inputs: the int8 ranges are guesses, and the accuracy on real "
                        "data may be far from the float model's. Give `--calibration` with real inputs.",
                        "warn"))
    tri = imp.get("triage") or {}
    if tri.get("error"):
        out.append(Para(f"Per-layer triage could not run: {tri['error']}", "note"))
        return out
    worst = tri.get("worst") or {}
    if worst:
        out.append(Para(f"The layer that loses most: {worst.get('layer') or worst.get('op')} "
                        f"({worst.get('op')}), SQNR {_db(worst.get('sqnr_db'))}. End to end, the int8 "
                        f"output's SQNR against float is {_db(tri.get('output_sqnr_db'))}."))
    rows = [[str(r.get("index", DASH)), str(r.get("op") or DASH), str(r.get("layer") or DASH),
             _db(r.get("sqnr_db")), f"{r['cosine']:.4f}" if isinstance(r.get("cosine"), float) else DASH]
            for r in tri.get("layers") or []]
    if rows:
        out.append(Table(["#", "op", "layer", "SQNR added", "cosine"], rows))
    if fig is not None:
        out.append(fig)
    out.append(Para("Each layer's float twin runs on that layer's dequantized int8 inputs (TFLite's "
                    "NumericVerify), so a row is the error the layer adds, not what it inherits; "
                    f"averaged over {tri.get('samples')} calibration inputs. Higher SQNR is better; "
                    "below about 20 dB a layer is worth a look (wider range, per-channel, or keep it "
                    "out of the int8 path).", "note"))
    return out

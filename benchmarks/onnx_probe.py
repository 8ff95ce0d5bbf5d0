"""Probe: the fast reader in ONNX Runtime against torch fp32, on 5 windows of 256 tokens.

    pip install onnxruntime onnx        # not dependencies of qa: this only measures whether they would pay
    python benchmarks/onnx_probe.py [--threads 2]

Candidates, each timed as the median of 5 passes, twice in one run, beside torch fp32 (SDPA
attention, as qa runs it):
- ONNX Runtime fp32, exported as torch runs it (no fused attention);
- ONNX Runtime fp32 with fused attention: exported with eager attention so that ONNX Runtime's
  transformer optimizer recognises BERT's attention, layer norms and GELU and fuses them;
- ONNX Runtime int8: the fused graph with per-channel dynamic int8 quantisation.
The largest change of a start logit against torch fp32 says how far each drifts.

Measured on an Intel(R) Xeon(R) Processor @ 2.80GHz (AVX-512 VNNI, no AMX):
- 2026-12-03, one thread, a training run beside it: torch fp32 429 / 550 ms, ONNX Runtime fp32
  687 / 593 ms, ONNX Runtime int8 434 / 456 ms (largest start-logit change 0.92).
- 2026-12-03, two threads, an evaluation run beside it (the numbers this script printed are in
  docs/benchmarks.md): fused attention brings ONNX Runtime fp32 level with torch fp32, not under it.
No runtime clearly faster than torch fp32 here at the same answers, so qa does not add one.
"""

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch

warnings.simplefilter("ignore")


def median_ms(run) -> float:
    run()
    times = []
    for _ in range(5):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return sorted(times)[2] * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--model", default=str(Path(__file__).resolve().parent.parent / "qa" / "models" / "reader"))
    args = ap.parse_args()

    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers import optimizer
    from transformers import AutoModelForQuestionAnswering

    from qa.runtime import processor_name

    torch.set_num_threads(args.threads)
    sdpa = AutoModelForQuestionAnswering.from_pretrained(args.model, dtype=torch.float32).eval()
    eager = AutoModelForQuestionAnswering.from_pretrained(args.model, dtype=torch.float32, attn_implementation="eager").eval()
    ids = torch.randint(1000, 20000, (5, 256), generator=torch.Generator().manual_seed(0))
    batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "token_type_ids": torch.zeros_like(ids)}
    names = list(batch) + ["start_logits", "end_logits"]
    work = Path(tempfile.mkdtemp())

    def export(model, path: Path) -> None:
        torch.onnx.export(model, (), str(path), kwargs=batch, input_names=list(batch), output_names=names[3:],
                          dynamic_axes={k: {0: "b", 1: "t"} for k in names}, opset_version=17, dynamo=False)

    export(sdpa, work / "plain.onnx")
    export(eager, work / "eager.onnx")
    cfg = sdpa.config
    fused = optimizer.optimize_model(str(work / "eager.onnx"), model_type="bert", num_heads=cfg.num_attention_heads,
                                     hidden_size=cfg.hidden_size)
    print("fused operators:", {k: v for k, v in fused.get_fused_operator_statistics().items() if v})
    fused.save_model_to_file(str(work / "fused.onnx"))
    quantize_dynamic(str(work / "fused.onnx"), str(work / "int8.onnx"), weight_type=QuantType.QInt8, per_channel=True,
                     extra_options={"DefaultTensorType": 1})

    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    sessions = {name: ort.InferenceSession(str(work / f"{name}.onnx"), options, providers=["CPUExecutionProvider"])
                for name in ("plain", "fused", "int8")}
    feed = {k: v.numpy() for k, v in batch.items()}
    print(f"{processor_name()}, {args.threads} threads, 5 windows x 256 tokens, median of 5 (ms):")
    with torch.inference_mode():
        reference = sdpa(**batch).start_logits.numpy()
        for round_ in (1, 2):
            row = {"torch fp32": median_ms(lambda: sdpa(**batch))}
            row.update({f"onnx {name}": median_ms(lambda s=s: s.run(None, feed)) for name, s in sessions.items()})
            print(f"round {round_}: " + ", ".join(f"{k} {v:.0f}" for k, v in row.items())
                  + f" | ratios to torch fp32: " + ", ".join(f"{k} {v / row['torch fp32']:.2f}x" for k, v in row.items() if k != "torch fp32"))
    drift = {name: float(np.abs(s.run(None, feed)[0] - reference).max()) for name, s in sessions.items()}
    print("largest start-logit change against torch fp32:", {k: round(v, 4) for k, v in drift.items()})


if __name__ == "__main__":
    main()

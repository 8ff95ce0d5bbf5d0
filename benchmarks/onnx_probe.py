"""Probe: the fast reader in ONNX Runtime (fp32, and int8 with per-channel dynamic quantisation)
against torch fp32, on 5 windows of 256 tokens, one thread, medians of 5, twice in one run.

    pip install onnxruntime onnx        # not dependencies of qa: this only measures whether they would pay
    python benchmarks/onnx_probe.py

Measured on an Intel(R) Xeon(R) Processor @ 2.80GHz (AVX-512 VNNI, no AMX), 2026-12-03, while a
training run shared the machine: torch fp32 429 / 550 ms, ONNX Runtime fp32 687 / 593 ms, ONNX
Runtime int8 434 / 456 ms (largest start-logit change 0.92): no runtime clearly faster than
torch fp32 here, so qa does not add one.
"""
import time, warnings, torch, numpy as np
warnings.simplefilter("ignore")
from transformers import AutoModelForQuestionAnswering
torch.set_num_threads(1)
m = AutoModelForQuestionAnswering.from_pretrained("qa/models/reader", dtype=torch.float32).eval()
ids = torch.randint(1000, 20000, (5, 256)); mask = torch.ones_like(ids); tt = torch.zeros_like(ids)
t = time.time()
torch.onnx.export(m, (ids, mask, tt), "/tmp/reader.onnx", input_names=["input_ids", "attention_mask", "token_type_ids"],
                  output_names=["start_logits", "end_logits"], dynamic_axes={k: {0: "b", 1: "t"} for k in ["input_ids", "attention_mask", "token_type_ids", "start_logits", "end_logits"]},
                  opset_version=17, dynamo=False)
print("export", round(time.time() - t, 1), "s")
import onnxruntime as ort
so = ort.SessionOptions(); so.intra_op_num_threads = 1; so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
s = ort.InferenceSession("/tmp/reader.onnx", so, providers=["CPUExecutionProvider"])
from onnxruntime.quantization import quantize_dynamic, QuantType
quantize_dynamic("/tmp/reader.onnx", "/tmp/reader-int8.onnx", weight_type=QuantType.QInt8, per_channel=True)
s8 = ort.InferenceSession("/tmp/reader-int8.onnx", so, providers=["CPUExecutionProvider"])
feed = {"input_ids": ids.numpy(), "attention_mask": mask.numpy(), "token_type_ids": tt.numpy()}
def tm(f):
    f(); ts = []
    for _ in range(5):
        a = time.perf_counter(); f(); ts.append(time.perf_counter() - a)
    return sorted(ts)[2] * 1000
with torch.inference_mode():
    tf = lambda: m(input_ids=ids, attention_mask=mask, token_type_ids=tt)
    for _ in range(2):
        print("torch fp32", round(tm(tf), 1), "ort fp32", round(tm(lambda: s.run(None, feed)), 1), "ort int8", round(tm(lambda: s8.run(None, feed)), 1))
    ref = tf().start_logits.numpy()
print("diff fp32", np.abs(s.run(None, feed)[0] - ref).max(), "int8", np.abs(s8.run(None, feed)[0] - ref).max())

#!/usr/bin/env python3
"""The PyTorch peer of erlgo: the same model, training step, sampling loop and kernels,
timed as erlgo's benchmarks time them, and its outputs on erlgo's checkpoints for the parity
test (model/torch_test.go).

  peer.py logits  --checkpoint F --inputs F      logits and log-probabilities of a batch
  peer.py grads   --checkpoint F --inputs F      objective terms, gradients, one update
  peer.py decode  --checkpoint F --inputs F      greedy or sampled decoding with the KV cache
  peer.py step    [--checkpoint F --inputs F]    times BenchmarkTrainStep's training step
  peer.py sample  [--checkpoint F --inputs F]    times BenchmarkSample's sampling loop
                  (either, with --profile F, also writes torch.profiler's table of its ops to F)
  peer.py kernels [--workloads F]                times `go run ./bench/kernels`' workloads

The inputs file is JSON: {"batch": a model.Batch as Go's encoding/json writes it,
"objective": a model.Objective, "optim": a model.OptimConfig, "max_new": n, "sample": a
model.SampleConfig, "uniforms": [[u per prompt] per token]}, every key but "batch" optional.
`go test ./model -run '^$' -bench 'TrainStep$' -benchtime 1x -args -peer.out DIR` writes the
benchmarks' checkpoint.safetensors and inputs.json to DIR. Without them, step and sample run
the benchmarks' shapes on a fresh model (--size, --seqs, --seq-len).

Standard library, torch and numpy only; PyTorch 1.13 (Debian's python3-torch) or 2.x. See
bench/torch/README.md.
"""

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone

import torch
import torch.nn.functional as F

import erltorch as et

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def fail(msg, code=1):
    print(f"peer.py: {msg}", file=sys.stderr)
    sys.exit(code)


# ---- setup shared by the subcommands ----


def setup(args):
    """Applies --device and --threads, and returns the torch.device."""
    if args.device == "cuda" and not torch.cuda.is_available():
        fail("--device cuda: this PyTorch sees no CUDA device")
    if args.threads:
        torch.set_num_threads(args.threads)
    elif args.device == "cpu":
        # PyTorch starts at 1 thread on some machines (Debian's 1.13 on these): use every core.
        torch.set_num_threads(len(os.sched_getaffinity(0)))
    if args.device == "cuda" and not args.tf32:
        # erlgo's float32 is float32: TF32 products would round the operands to 10 bits.
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    return torch.device(args.device)


def dtype_of(name):
    return {"float32": torch.float32, "float64": torch.float64, None: None}[name]


def load_inputs(path):
    try:
        with open(path) as f:
            js = json.load(f)
    except (OSError, ValueError) as e:
        fail(f"{path}: {e}")
    if "batch" not in js:
        fail(f"{path}: no \"batch\": not a peer inputs file")
    return js


def load(args, device, dtype=None):
    """The policy and inputs of --checkpoint and --inputs, both required."""
    if not args.checkpoint or not args.inputs:
        fail(f"{args.cmd} needs --checkpoint and --inputs")
    try:
        policy = et.Policy.from_checkpoint(args.checkpoint, device, dtype)
    except (OSError, ValueError) as e:
        fail(str(e))
    return policy, load_inputs(args.inputs)


def load_or_synthesise(args, device):
    """The benchmark's policy and inputs: from --checkpoint and --inputs when given, else a
    fresh policy of --size with a batch of the benchmark's shapes."""
    if args.checkpoint or args.inputs:
        policy, js = load(args, device, torch.float32)
        return policy, js, f"{args.checkpoint} + {args.inputs}"
    cfg = et.preset(args.size, args.vocab)
    policy = et.Policy.random(cfg, device)
    js = {"batch": et.synthetic_batch(cfg, args.seqs, args.seq_len)}
    return policy, js, f"synthetic: {args.size} model, {args.seqs} × {args.seq_len} tokens"


def objective_of(js):
    return et.Objective.from_json(js["objective"]) if "objective" in js else et.Objective()


def optim_of(js):
    return et.OptimConfig(**js["optim"]) if "optim" in js else et.OptimConfig()


def sample_config_of(js, args=None):
    sc = et.SampleConfig(**js.get("sample", {}))
    if args is not None:
        for field in ("temperature", "top_k", "top_p"):
            if getattr(args, field) is not None:
                sc = et.SampleConfig(**{**sc.__dict__, field: getattr(args, field)})
    return sc


def write_json(obj, path):
    text = json.dumps(obj)
    if path in (None, "-"):
        print(text)
        return
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)  # whole or not at all


def flat(t):
    return t.detach().reshape(-1).double().cpu().tolist()


# ---- logits, grads, decode: the parity test's subcommands ----


def cmd_logits(args):
    device = setup(args)
    policy, js = load(args, device, dtype_of(args.dtype))
    batch = et.Batch(js["batch"], policy.cfg.vocab, device, policy.w["wte"].dtype)
    with torch.no_grad():
        logits = policy.logits(batch)
        logp = et.log_probs(logits, batch)
    write_json({"logits": logits.double().cpu().tolist(), "logp": flat(logp)}, args.out)


def cmd_grads(args):
    device = setup(args)
    policy, js = load(args, device, dtype_of(args.dtype))
    batch = et.Batch(js["batch"], policy.cfg.vocab, device, policy.w["wte"].dtype)
    terms = et.gradients(policy, batch, objective_of(js))
    grads = {n: flat(policy.w[n].grad) for n in policy.names}
    trainer = et.Trainer(policy.params, optim_of(js), device.type)
    norm, lr = trainer.update()
    write_json(
        {
            "terms": dict(zip(et.TERMS, terms.double().cpu().tolist())),
            "grads": grads,
            "grad_norm": norm,
            "lr": lr,
            "params": {n: flat(policy.w[n]) for n in policy.names},
        },
        args.out,
    )


def cmd_decode(args):
    device = setup(args)
    policy, js = load(args, device, torch.float32)
    prompts = et.Batch(js["batch"], policy.cfg.vocab, device)
    with torch.inference_mode():
        tokens, logp = et.generate(policy, prompts, js.get("max_new", 1), sample_config_of(js), js.get("uniforms"))
    write_json({"tokens": tokens, "logp": logp}, args.out)


# ---- timing ----


def machine(device):
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    m = {
        "cpu": cpu,
        "nproc": os.cpu_count(),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "blas": blas_library(),
    }
    if device.type == "cuda":
        m["gpu"] = torch.cuda.get_device_name(device)
    return m


def blas_library():
    """The BLAS library this process mapped: Debian's torch calls whichever libblas.so.3 the
    alternatives system points at, and its speed depends on which one it is."""
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "blas" in line.lower() and "/" in line}
        return sorted(os.path.realpath(p) for p in libs)
    except OSError:
        return []


class Clock:
    """Times runs of a call: wall-clock on the CPU, CUDA events (which wait for the work
    queued between them) on a GPU."""

    def __init__(self, device):
        self.cuda = device.type == "cuda"

    def sync(self):
        if self.cuda:
            torch.cuda.synchronize()

    def seconds(self, call, times):
        """Seconds per call over times calls in a row."""
        if self.cuda:
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            for _ in range(times):
                call()
            end.record()
            end.synchronize()
            return start.elapsed_time(end) / 1e3 / times
        start = time.perf_counter()
        for _ in range(times):
            call()
        return (time.perf_counter() - start) / times


def timed(clock, call, warmup, samples, iters):
    """Warm-up calls, then samples of iters calls each, as `go test -bench -benchtime Nx
    -count K` takes them: each sample is the mean time per call of its iters calls."""
    for _ in range(warmup):
        call()
    clock.sync()
    ms = [1e3 * clock.seconds(call, iters) for _ in range(samples)]
    return {"samples_ms": ms, "min_ms": min(ms), "median_ms": statistics.median(ms)}


def header(args, device, what, source):
    return {
        "what": what,
        "command": " ".join([os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:]),
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": machine(device),
        "device": str(device),
        "compile": args.compile,
        "attention": "scaled_dot_product_attention" if et.HAS_SDPA else "explicit (matmul, masked softmax, matmul)",
        "source": source,
    }


def need_compile(args):
    if args.compile and not hasattr(torch, "compile"):
        fail(f"--compile: torch.compile needs PyTorch 2.0 or later; this is PyTorch {torch.__version__}", 2)


PROFILE_CALLS = 10


def profile_to(path, device, call):
    """Runs call PROFILE_CALLS times under torch.profiler and writes its table of ops, by self
    time, to path: the peer's side of a profile beside erlgo's pprof."""
    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    with profile(activities=activities) as prof:
        for _ in range(PROFILE_CALLS):
            call()
    sort = "self_cuda_time_total" if device.type == "cuda" else "self_cpu_time_total"
    with open(path, "w") as f:
        f.write(f"torch {torch.__version__}, {device}, {torch.get_num_threads()} threads, {PROFILE_CALLS} calls\n")
        f.write(prof.key_averages().table(sort_by=sort, row_limit=30))


def cmd_step(args):
    need_compile(args)
    device = setup(args)
    policy, js, source = load_or_synthesise(args, device)
    batch = et.Batch(js["batch"], policy.cfg.vocab, device)
    obj = objective_of(js)
    trainer = et.Trainer(policy.params, optim_of(js), device.type)

    def terms_of():
        return et.objective_terms(et.log_probs(policy.logits(batch), batch), batch.columns, obj)

    if args.compile:
        terms_of = torch.compile(terms_of)

    def gradients():
        # model.Model.Gradients, the call BenchmarkTrainStep times: forward, objective and
        # backward, and the terms read back to the host, as a training step logs them.
        for p in policy.params:
            p.grad = None
        terms = terms_of()
        terms[0].backward()
        return terms.tolist()

    def step():
        gradients()
        trainer.update()

    clock = Clock(device)
    first = gradients()
    rep = header(args, device, "step", source)
    rep.update(
        model=policy.cfg.__dict__,
        batch={"seqs": batch.tokens.shape[0], "seq_len": batch.tokens.shape[1], "tokens": batch.num_tokens, "scored": len(batch.rows)},
        adamw=trainer.kind,
        loss=first[0],
        iters_per_sample=args.iters,
        gradients=timed(clock, gradients, args.warmup, args.samples, args.iters),
        step=timed(clock, step, args.warmup, args.samples, args.iters),
    )
    for k in ("gradients", "step"):
        rep[k]["tokens_per_s"] = batch.num_tokens / (rep[k]["min_ms"] / 1e3)
    if args.profile:
        profile_to(args.profile, device, gradients)
    if args.json:
        print(json.dumps(rep))
        return
    print(f"{rep['machine']['cpu']}, torch {torch.__version__}, {device}, {torch.get_num_threads()} threads; {source}")
    print(f"batch {rep['batch']}, attention: {rep['attention']}, AdamW: {trainer.kind}")
    for k, what in (("gradients", "forward, objective, backward (BenchmarkTrainStep)"), ("step", "and clipping, AdamW")):
        r = rep[k]
        print(f"{k:9s} min {r['min_ms']:8.2f} ms  median {r['median_ms']:8.2f} ms  {r['tokens_per_s']:9.0f} tokens/s  {what}")


def cmd_sample(args):
    need_compile(args)
    device = setup(args)
    policy, js, source = load_or_synthesise(args, device)
    prompts = et.Batch(js["batch"], policy.cfg.vocab, device)
    max_new = args.max_new or js.get("max_new", 24)
    sc = sample_config_of(js, args)
    compiled_step = torch.compile(et.decode_step_fixed) if args.compile else None
    gen = torch.Generator().manual_seed(2)

    def sample():
        with torch.inference_mode():
            et.generate(policy, prompts, max_new, sc, generator=gen, compiled_step=compiled_step)

    clock = Clock(device)
    rep = header(args, device, "sample", source)
    rep.update(
        model=policy.cfg.__dict__,
        prompts=prompts.tokens.shape[0],
        prompt_len=prompts.tokens.shape[1],
        max_new=max_new,
        sample=sc.__dict__,
        iters_per_sample=args.iters,
        generate=timed(clock, sample, args.warmup, args.samples, args.iters),
    )
    r = rep["generate"]
    r["sampled_tokens_per_s"] = rep["prompts"] * max_new / (r["min_ms"] / 1e3)
    if args.profile:
        profile_to(args.profile, device, sample)
    if args.json:
        print(json.dumps(rep))
        return
    print(f"{rep['machine']['cpu']}, torch {torch.__version__}, {device}, {torch.get_num_threads()} threads; {source}")
    print(f"{rep['prompts']} prompts of {rep['prompt_len']} tokens + {max_new} sampled, {sc}, attention: {rep['attention']}")
    print(f"generate  min {r['min_ms']:8.2f} ms  median {r['median_ms']:8.2f} ms  {r['sampled_tokens_per_s']:9.0f} sampled tokens/s")


# ---- kernels ----

MIN_SAMPLE = 0.002  # seconds: bench/kernels' minSample
MAX_SAMPLES = 200  # bench/kernels' maxSamples


def workload_list(args):
    """bench/kernels' workloads: from --workloads, else from `go run ./bench/kernels -list`."""
    if args.workloads:
        try:
            with open(args.workloads) as f:
                return json.load(f)
        except (OSError, ValueError) as e:
            fail(f"{args.workloads}: {e}")
    if shutil.which("go") is None:
        fail("kernels: no --workloads file and no go to list them: run `go run ./bench/kernels -list > workloads.json` where Go is, and pass --workloads workloads.json")
    out = subprocess.run(["go", "run", "./bench/kernels", "-list"], cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        fail(f"go run ./bench/kernels -list: {out.stderr.strip()}")
    return json.loads(out.stdout)


def prepare(w, device):
    """The PyTorch call that does workload w's work, on operands of its shapes, and what it is."""

    def rand(*shape):
        return torch.randn(*shape, device=device)

    def index(n, hi):
        return torch.randint(hi, (n,), device=device)

    B, T, C, NH, V = w["B"], w["T"], w["C"], w["NH"], w["V"]
    hd, kernel = C // NH, w["kernel"]
    rows, cols = w.get("rows", 0), w.get("cols", 0)
    if kernel == "Gemm":
        m, n, k = w["m"], w["n"], w["k"]
        a = rand(k, m).t() if w.get("trans_a") else rand(m, k)  # op(A), as the layouts of -list store it
        b = rand(n, k).t() if w.get("trans_b") else rand(k, n)
        c = torch.empty(m, n, device=device)
        return (lambda: torch.mm(a, b, out=c)), "torch.mm"
    if kernel in ("AttentionForward", "AttentionBackward"):
        qkv = rand(B, T, 3 * C).requires_grad_(kernel == "AttentionBackward")

        def forward():
            q, k, v = qkv.view(B, T, 3, NH, hd).permute(2, 0, 3, 1, 4)
            return et.attend(q, k, v, None).transpose(1, 2).reshape(B, T, C)

        impl = "scaled_dot_product_attention" if et.HAS_SDPA else "matmul, masked softmax, matmul"
        if kernel == "AttentionForward":
            return forward, impl + " (causal), out as B×T×C"
        out = forward()
        dout = torch.randn_like(out)
        return (lambda: torch.autograd.grad(out, qkv, dout, retain_graph=True)), "autograd of " + impl
    if kernel == "AttentionStep":
        q = rand(B, 3 * C).view(B, 3, NH, hd)[:, 0, :, None]
        kc, vc = rand(B, NH, T, hd), rand(B, NH, T, hd)  # the peer's cache layout
        return (lambda: et.attend_step(q, kc, vc, None).reshape(B, C)), "attention of one query over B×NH×T×hd caches"
    n = rows * cols
    if kernel == "CopyRows":
        qkv, kc = rand(rows, 3 * cols), torch.empty(rows, cols, device=device)
        src = dst = torch.arange(rows, device=device)

        def copy_rows():
            kc[dst] = qkv[src, cols : 2 * cols]

        return copy_rows, "index_put of indexed rows"
    if kernel in ("EmbeddingForward", "EmbeddingBackward"):
        tokens, pos = index(rows, V), index(rows, T)
        wte, wpe, out = rand(V, cols), rand(T, cols), rand(rows, cols)
        if kernel == "EmbeddingForward":
            return (lambda: torch.add(F.embedding(tokens, wte), F.embedding(pos, wpe), out=out)), "embedding + embedding"
        return (lambda: (wte.index_add_(0, tokens, out), wpe.index_add_(0, pos, out))), "index_add_ twice"
    if kernel in ("LayerNormForward", "LayerNormBackward"):
        x, weight, bias = rand(rows, cols), rand(cols), rand(cols)
        if kernel == "LayerNormForward":
            return (lambda: torch.native_layer_norm(x, (cols,), weight, bias, et.LAYER_NORM_EPS)), "native_layer_norm"
        _, mean, rstd = torch.native_layer_norm(x, (cols,), weight, bias, et.LAYER_NORM_EPS)
        dout = rand(rows, cols)
        ln_backward = torch.ops.aten.native_layer_norm_backward
        return (lambda: ln_backward(dout, x, (cols,), mean, rstd, weight, bias, [True, True, True])), "native_layer_norm_backward"
    if kernel == "GeluForward":
        x = rand(n)
        return (lambda: F.gelu(x, approximate="tanh")), "gelu (tanh)"
    if kernel == "GeluBackward":
        x, dout = rand(n), rand(n)
        return (lambda: torch.ops.aten.gelu_backward(dout, x, approximate="tanh")), "gelu_backward (tanh)"
    if kernel in ("LogSoftmaxGatherForward", "LogSoftmaxGatherBackward"):
        logits, targets = rand(rows, cols), index(rows, cols)[:, None]
        if kernel == "LogSoftmaxGatherForward":
            return (lambda: logits.gather(1, targets).squeeze(1) - torch.logsumexp(logits, 1)), "logsumexp, gather"
        lse, dlogp = torch.logsumexp(logits, 1, keepdim=True), rand(rows, 1)

        def backward():
            d = torch.exp(logits - lse).mul_(-dlogp)
            return d.scatter_add_(1, targets, dlogp)

        return backward, "exp, mul, scatter_add"
    if kernel in ("GatherRows", "ScatterRows"):
        idx, table, picked = index(rows, 2 * rows), rand(2 * rows, cols), rand(rows, cols)
        if kernel == "GatherRows":
            return (lambda: torch.index_select(table, 0, idx, out=picked)), "index_select"
        return (lambda: table.zero_().index_add_(0, idx, picked)), "zero_, index_add_"
    if kernel == "Add":
        a, b, out = rand(n), rand(n), torch.empty(n, device=device)
        return (lambda: torch.add(a, b, out=out)), "add"
    if kernel == "AddBias":
        x, bias = rand(rows, cols), rand(cols)
        return (lambda: x.add_(bias)), "add_ (broadcast)"
    if kernel == "SumRows":
        dout, dbias = rand(rows, cols), torch.empty(cols, device=device)
        return (lambda: torch.sum(dout, 0, out=dbias)), "sum over rows"
    if kernel == "AdamW":
        param = rand(1, n).requires_grad_()  # a matrix, so that weight decay applies as in Go's workload
        param.grad = rand(1, n)
        cfg = et.OptimConfig(lr=1e-4, beta1=0.9, beta2=0.95, eps=1e-8, weight_decay=0.1)
        opt, kind = et.adamw([param], cfg, device.type)
        return opt.step, f"torch.optim.AdamW ({kind})"
    if kernel == "SumSquares":
        x = rand(n)
        return (lambda: torch.dot(x, x)), "dot (float32 accumulation)"
    if kernel == "Scale":
        x = rand(n)
        return (lambda: x.mul_(1.0)), "mul_"
    return None, None


def measure(clock, call, min_samples, min_time):
    """Times call as bench/kernels' timer does: warm, samples of enough calls to last
    MIN_SAMPLE, at least min_samples of them and min_time in all (at most MAX_SAMPLES);
    returns the median seconds per call, the samples and the calls per sample."""
    with torch.no_grad():
        for _ in range(1 if not clock.cuda else 3):  # faults in operands; on a GPU, loads the kernels
            call()
        clock.sync()
        calls = max(1, int(MIN_SAMPLE / max(clock.seconds(call, 1), 1e-9)))
        samples, begin = [], time.perf_counter()
        while len(samples) < min_samples or (time.perf_counter() - begin < min_time and len(samples) < MAX_SAMPLES):
            samples.append(clock.seconds(call, calls))
    return statistics.median(samples), samples, calls


def ceilings(device):
    """The matrix and memory ceilings of bench/kernels, with PyTorch: a 1024³ product and a
    copy of 256 MiB."""
    n, words = 1024, (256 << 20) // 4
    a, b, c = torch.randn(n, n, device=device), torch.randn(n, n, device=device), torch.empty(n, n, device=device)
    src, dst = torch.randn(words, device=device), torch.empty(words, device=device)
    return [
        ({"name": "torch.mm", "kernel": "mm", "shape": "NN m=n=k=1024", "flops": 2.0 * n**3}, lambda: torch.mm(a, b, out=c)),
        ({"name": "copy_", "kernel": "copy", "shape": "256 MiB", "bytes": 2.0 * 4 * words}, lambda: dst.copy_(src)),
    ]


def rate(w, seconds):
    if w.get("flops"):
        return w["flops"] / seconds / 1e9, "GFLOP/s"
    return w["bytes"] / seconds / 1e9, "GB/s"


def cmd_kernels(args):
    device = setup(args)
    clock = Clock(device)
    filt = re.compile(args.run)
    backend = f"torch-{device.type}"
    rep = {
        "command": " ".join([os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:]),
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": machine(device),
        "ceilings": [],
        "results": [],
    }
    say = (lambda *a: print(*a, file=sys.stderr)) if args.json else print
    m = rep["machine"]
    say(f"{m['cpu']}, {m['nproc']} CPUs, torch {m['torch']} on {m.get('gpu', 'the CPU')}, {m['threads']} threads")
    bound = {}
    for w, call in ceilings(device):
        seconds, samples, calls = measure(clock, call, args.samples, args.time)
        r, unit = rate(w, seconds)
        bound[unit] = r
        rep["ceilings"].append({**w, "backend": backend, "seconds": seconds, "samples": samples, "calls_per_sample": calls, "rate": r, "unit": unit})
        say(f"{backend} ceiling {w['name']:9s} {w['shape']:16s} {seconds * 1e3:9.3f} ms {r:9.2f} {unit}")
    for w in workload_list(args):
        if not filt.search(w["size"] + "/" + w["name"]):
            continue
        call, impl = prepare(w, device)
        if call is None:
            say(f"{backend} {w['size']:6s} {w['name']:15s} no PyTorch op for kernel {w['kernel']}")
            continue
        seconds, samples, calls = measure(clock, call, args.samples, args.time)
        r, unit = rate(w, seconds)
        res = {**w, "backend": backend, "impl": impl, "seconds": seconds, "samples": samples, "calls_per_sample": calls, "rate": r, "unit": unit}
        res["fraction_of_ceiling"] = r / bound[unit]
        rep["results"].append(res)
        say(f"{backend} {w['size']:6s} {w['name']:15s} {w['shape']:26s} {seconds * 1e3:9.3f} ms {r:9.2f} {unit:7s} {res['fraction_of_ceiling']:5.2f}  {impl}")
        del call
        if clock.cuda:
            torch.cuda.empty_cache()
    if args.json:
        print(json.dumps(rep))
    if args.compare:
        compare_kernels(rep, args.compare)


def compare_kernels(rep, go_json):
    """A table of PyTorch's rates beside those of a `go run ./bench/kernels -out` report."""
    try:
        with open(go_json) as f:
            go = json.load(f)
    except (OSError, ValueError) as e:
        fail(f"--compare {go_json}: {e}")
    theirs = {}
    for r in go.get("results", []):
        theirs.setdefault((r["size"], r["name"]), {})[r["backend"]] = r
    out = sys.stderr if "--json" in sys.argv else sys.stdout
    print(f"\n{'size':6s} {'kernel':15s} {'torch ms':>9s} {'backend':>8s} {'ms':>9s} {'them/torch':>10s}", file=out)
    for r in rep["results"]:
        for backend, g in sorted(theirs.get((r["size"], r["name"]), {}).items()):
            print(f"{r['size']:6s} {r['name']:15s} {r['seconds'] * 1e3:9.3f} {backend:>8s} {g['seconds'] * 1e3:9.3f} {g['seconds'] / r['seconds']:10.2f}x", file=out)


# ---- the command line ----


def main():
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="where to run (default cpu)")
    common.add_argument("--threads", type=int, help="torch.set_num_threads (default: every core the process may use)")
    common.add_argument("--tf32", action="store_true", help="on CUDA, let float32 products use TF32 (off by default: erlgo computes in float32)")
    io_args = argparse.ArgumentParser(add_help=False)
    io_args.add_argument("--checkpoint", metavar="FILE", help="an erlgo checkpoint (.safetensors)")
    io_args.add_argument("--inputs", metavar="FILE", help="the inputs file (JSON): batch, objective, optimizer, sampling")
    parity = argparse.ArgumentParser(add_help=False)
    parity.add_argument("--out", metavar="FILE", help="write the JSON result here (default stdout)")
    bench = argparse.ArgumentParser(add_help=False)
    bench.add_argument("--json", action="store_true", help="print one JSON object instead of lines")
    bench.add_argument("--compile", action="store_true", help="run through torch.compile (PyTorch 2.x)")
    bench.add_argument("--warmup", type=int, default=3, help="untimed calls first (default 3)")
    bench.add_argument("--iters", type=int, default=5, help="calls per sample; a sample is their mean (default 5)")
    bench.add_argument("--samples", type=int, default=5, help="samples to take (default 5)")
    bench.add_argument("--profile", metavar="FILE", help=f"after timing, profile {PROFILE_CALLS} calls with torch.profiler and write its table of ops by self time to FILE")
    bench.add_argument("--size", choices=sorted(et.PRESETS), default="small", help="without --checkpoint: the model (default small)")
    bench.add_argument("--vocab", type=int, default=et.STANDARD_VOCAB, help=f"without --checkpoint: the vocabulary (default {et.STANDARD_VOCAB}, the standard one)")
    bench.add_argument("--seqs", type=int, default=et.BENCH_SEQS, help=f"without --inputs: sequences (default {et.BENCH_SEQS}, as the Go benchmarks)")
    bench.add_argument("--seq-len", type=int, default=et.BENCH_SEQ_LEN, help=f"without --inputs: tokens per sequence (default {et.BENCH_SEQ_LEN})")

    ap = argparse.ArgumentParser(prog="peer.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True, metavar="COMMAND")
    p = sub.add_parser("logits", parents=[common, io_args, parity], help="logits and log-probabilities of the inputs' batch")
    p.add_argument("--dtype", choices=("float32", "float64"), help="compute in this type (default: the checkpoint's)")
    p.set_defaults(func=cmd_logits)
    p = sub.add_parser("grads", parents=[common, io_args, parity], help="objective terms, gradients and one clipped AdamW update")
    p.add_argument("--dtype", choices=("float32", "float64"), help="compute in this type (default: the checkpoint's)")
    p.set_defaults(func=cmd_grads)
    p = sub.add_parser("decode", parents=[common, io_args, parity], help="decode the inputs' prompts with the KV cache")
    p.set_defaults(func=cmd_decode)
    p = sub.add_parser("step", parents=[common, io_args, bench], help="time the training step of BenchmarkTrainStep")
    p.set_defaults(func=cmd_step)
    p = sub.add_parser("sample", parents=[common, io_args, bench], help="time the sampling loop of BenchmarkSample")
    p.add_argument("--max-new", type=int, help="tokens to sample after each prompt (default: the inputs', else 24)")
    p.add_argument("--temperature", type=float, help="override the inputs' temperature")
    p.add_argument("--top-k", type=int, help="override the inputs' top-k")
    p.add_argument("--top-p", type=float, help="override the inputs' top-p")
    p.set_defaults(func=cmd_sample)
    p = sub.add_parser("kernels", parents=[common], help="time bench/kernels' workloads with PyTorch's ops")
    p.add_argument("--workloads", metavar="FILE", help="the output of `go run ./bench/kernels -list` (default: run it)")
    p.add_argument("--run", default="", metavar="REGEXP", help="only workloads whose size/name matches, such as small/ or attention")
    p.add_argument("--time", type=float, default=0.5, help="time each workload for at least this many seconds (default 0.5)")
    p.add_argument("--samples", type=int, default=7, help="take at least this many samples of each (default 7)")
    p.add_argument("--json", action="store_true", help="print one JSON object (the lines go to stderr)")
    p.add_argument("--compare", metavar="GO.json", help="also print a table beside a `go run ./bench/kernels -out GO.json` report")
    p.set_defaults(func=cmd_kernels)
    args = ap.parse_args()
    if getattr(args, "compile", False) and args.cmd == "kernels":
        fail("--compile applies to step and sample", 2)
    args.func(args)


if __name__ == "__main__":
    main()

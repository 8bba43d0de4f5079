"""erlgo's policy in PyTorch: package model's transformer, objective, optimizer step and
KV-cache sampler, written again with PyTorch's own ops, for bench/torch/peer.py.

Every definition follows a file of the Go tree, named where it matters; the parity test
(model/torch_test.go) holds the two together: logits, log-probabilities, objective terms,
gradients, one optimizer update and greedy and sampled decoding.

Runs on PyTorch 1.13 (Debian's python3-torch, CPU) and 2.x (the GPU machine's): where 2.x has
a better op (scaled_dot_product_attention, fused AdamW) it is used, and 1.13 gets the explicit
form.
"""

import json
import math
import struct
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

LAYER_NORM_EPS = 1e-5  # kernels/layernorm.go: layerNormEps
MASKED_LOGIT = -1e9  # model/transformer.go: maskedLogit, added to the logits of tokens not allowed
SAFE_EXP_MAX = 20.0  # model/ops.go: safeExp caps the exponent of a ratio

HAS_SDPA = hasattr(F, "scaled_dot_product_attention")  # PyTorch 2.0 and later


# ---- safetensors ----
#
# An 8-byte little-endian header length, a JSON header naming each tensor's dtype, shape and
# byte range (relative to the end of the header), then the raw little-endian data. It is read
# here rather than with the `safetensors` package because Debian, whose python3-torch the CPU
# peer runs, does not package it, and pip refuses to install into Debian's Python (PEP 668);
# a virtual environment would not see Debian's torch. The format takes a dozen lines of numpy.

_NUMPY_DTYPES = {"F64": "<f8", "F32": "<f4", "I64": "<i8", "I32": "<i4", "U8": "u1"}


def read_safetensors(path):
    """Returns ({name: numpy array}, {metadata key: string}) of a safetensors file, or raises
    ValueError naming the file and the problem."""
    with open(path, "rb") as f:
        raw = f.read()

    def bad(problem):
        return ValueError(f"{path}: not a valid safetensors file: {problem}")

    if len(raw) < 8:
        raise bad(f"{len(raw)} bytes is shorter than the header length")
    (n,) = struct.unpack_from("<Q", raw)
    if n > len(raw) - 8:
        raise bad(f"the header claims {n} bytes but the file has {len(raw) - 8} after the length")
    try:
        header = json.loads(raw[8 : 8 + n])
    except ValueError as e:
        raise bad(f"header: {e}") from None
    meta = header.pop("__metadata__", None) or {}
    data = memoryview(raw)[8 + n :]
    tensors = {}
    for name, t in header.items():
        dtype = _NUMPY_DTYPES.get(t.get("dtype"))
        if dtype is None:
            raise bad(f"tensor {name!r}: unsupported dtype {t.get('dtype')!r}")
        shape, (lo, hi) = t["shape"], t["data_offsets"]
        count = math.prod(shape)
        if not 0 <= lo <= hi <= len(data) or hi - lo != count * np.dtype(dtype).itemsize:
            raise bad(f"tensor {name!r}: byte range [{lo}, {hi}) does not hold shape {shape} of {t['dtype']}")
        tensors[name] = np.frombuffer(data, dtype=dtype, count=count, offset=lo).reshape(shape)
    return tensors, meta


# ---- the model ----


@dataclass(frozen=True)
class Config:
    """model.Config, with its JSON names."""

    vocab: int
    d_model: int
    layers: int
    heads: int
    context_len: int

    @property
    def head_dim(self):
        return self.d_model // self.heads


# The presets of model.NewConfig (d_model, layers, heads), the standard vocabulary's size and
# the benchmarks' batch (model/bench_test.go), for a peer run without a checkpoint: the GPU
# machine has no Go to write one. TestTorchPeerConstants holds them to the Go side's.
PRESETS = {"small": (64, 2, 4), "base": (256, 6, 8)}
STANDARD_VOCAB = 91
CONTEXT_LEN = 512
BENCH_SEQS = 64
BENCH_SEQ_LEN = 96


def preset(size, vocab=STANDARD_VOCAB):
    d, layers, heads = PRESETS[size]
    return Config(vocab=vocab, d_model=d, layers=layers, heads=heads, context_len=CONTEXT_LEN)


def param_shapes(cfg):
    """The parameters in model.Config.paramShapes' order, with GPT-2's names and PyTorch's
    layouts (a Linear weight is out × in), and each one's initialisation."""
    d = cfg.d_model
    ps = [("wte", (cfg.vocab, d), "normal"), ("wpe", (cfg.context_len, d), "sinusoid")]
    for layer in range(cfg.layers):
        p = f"h.{layer}."
        ps += [
            (p + "ln_1.weight", (d,), "ones"),
            (p + "ln_1.bias", (d,), "zeros"),
            (p + "attn.c_attn.weight", (3 * d, d), "normal"),
            (p + "attn.c_attn.bias", (3 * d,), "zeros"),
            (p + "attn.c_proj.weight", (d, d), "residual"),
            (p + "attn.c_proj.bias", (d,), "zeros"),
            (p + "ln_2.weight", (d,), "ones"),
            (p + "ln_2.bias", (d,), "zeros"),
            (p + "mlp.c_fc.weight", (4 * d, d), "normal"),
            (p + "mlp.c_fc.bias", (4 * d,), "zeros"),
            (p + "mlp.c_proj.weight", (d, 4 * d), "residual"),
            (p + "mlp.c_proj.bias", (d,), "zeros"),
        ]
    return ps + [("ln_f.weight", (d,), "ones"), ("ln_f.bias", (d,), "zeros")]


class Policy:
    """The transformer of model/transformer.go: pre-LayerNorm blocks of causal multi-head
    attention over packed q|k|v and a GELU (tanh) MLP, token and position embeddings with a
    position id given per token, a final LayerNorm and a head tied to the token embedding."""

    def __init__(self, cfg, params):
        self.cfg = cfg
        self.names = [name for name, _, _ in param_shapes(cfg)]
        self.w = params  # name -> tensor, every one a leaf that requires grad

    @property
    def params(self):
        return [self.w[n] for n in self.names]

    @classmethod
    def from_checkpoint(cls, path, device="cpu", dtype=None):
        """Loads an erlgo checkpoint (its weights; optimizer moments are ignored). dtype
        defaults to the checkpoint's own (F32 or F64)."""
        tensors, meta = read_safetensors(path)
        if "erlgo.config" not in meta:
            raise ValueError(f"{path}: no erlgo.config metadata: not an erlgo checkpoint")
        cfg = Config(**json.loads(meta["erlgo.config"]))
        params = {}
        for name, shape, _ in param_shapes(cfg):
            if name not in tensors:
                raise ValueError(f"{path}: tensor {name!r} is missing")
            t = tensors[name]
            if tuple(t.shape) != shape:
                raise ValueError(f"{path}: tensor {name!r} has shape {list(t.shape)}, want {list(shape)}")
            value = torch.from_numpy(t.copy())
            params[name] = value.to(device=device, dtype=dtype or value.dtype).requires_grad_()
        return cls(cfg, params)

    @classmethod
    def random(cls, cfg, device="cpu", dtype=torch.float32, seed=1):
        """A fresh policy initialised as model.New does (the draws differ: timing does not
        depend on them)."""
        g = torch.Generator().manual_seed(seed)
        res_std = 0.02 / math.sqrt(2 * cfg.layers)
        params = {}
        for name, shape, init in param_shapes(cfg):
            if init == "normal":
                t = 0.02 * torch.randn(shape, generator=g, dtype=torch.float64)
            elif init == "residual":
                t = res_std * torch.randn(shape, generator=g, dtype=torch.float64)
            elif init == "ones":
                t = torch.ones(shape, dtype=torch.float64)
            elif init == "zeros":
                t = torch.zeros(shape, dtype=torch.float64)
            else:  # the sinusoids of model.initSinusoid
                pos = torch.arange(shape[0], dtype=torch.float64)[:, None]
                k = torch.arange(shape[1])
                angle = pos / torch.pow(10000.0, (k // 2 * 2).double() / shape[1])
                t = 0.02 * math.sqrt(2) * torch.cos(angle - (k % 2).double() * math.pi / 2)
            params[name] = t.to(device=device, dtype=dtype).requires_grad_()
        return cls(cfg, params)

    def block_inputs(self, tokens, pos):
        w = self.w
        return F.embedding(tokens, w["wte"]) + F.embedding(pos, w["wpe"])

    def layer_norm(self, x, name):
        return F.layer_norm(x, (self.cfg.d_model,), self.w[name + ".weight"], self.w[name + ".bias"], LAYER_NORM_EPS)

    def linear(self, x, name):
        return F.linear(x, self.w[name + ".weight"], self.w[name + ".bias"])

    def mlp(self, x, p):
        h = self.layer_norm(x, p + "ln_2")
        return x + self.linear(F.gelu(self.linear(h, p + "mlp.c_fc"), approximate="tanh"), p + "mlp.c_proj")

    def hidden(self, tokens, pos, lens=None, kv=None):
        """The final LayerNorm's output (B, T, C) for tokens and pos (B, T). lens (B,) gives
        each sequence's length (None: all T): key j is visible to query i iff j <= i and
        j < lens[b], as kernels.AttentionForward. With kv a list, each layer's keys and values
        (B, NH, T, hd) are appended to it."""
        cfg = self.cfg
        B, T = tokens.shape
        NH, hd = cfg.heads, cfg.head_dim
        mask = None if lens is None else padding_mask(lens, T)
        x = self.block_inputs(tokens, pos)
        for layer in range(cfg.layers):
            p = f"h.{layer}."
            qkv = self.linear(self.layer_norm(x, p + "ln_1"), p + "attn.c_attn")
            q, k, v = qkv.view(B, T, 3, NH, hd).permute(2, 0, 3, 1, 4)
            if kv is not None:
                kv.append((k, v))
            att = attend(q, k, v, mask).transpose(1, 2).reshape(B, T, cfg.d_model)
            x = self.mlp(x + self.linear(att, p + "attn.c_proj"), p)
        return self.layer_norm(x, "ln_f")

    def head(self, h):
        return F.linear(h, self.w["wte"])  # tied to the token embedding

    def logits(self, batch):
        """The logits that predict each scored token (M, V)."""
        h = self.hidden(batch.tokens, batch.pos, batch.lens)
        return self.head(h.reshape(-1, self.cfg.d_model)[batch.rows])


def padding_mask(lens, T):
    """(B, 1, T, T) booleans: key j is visible to query i iff j <= i and j < lens[b]."""
    j = torch.arange(T, device=lens.device)
    causal = j[None, :] <= j[:, None]
    return (causal[None] & (j[None, None, :] < lens[:, None, None]))[:, None]


def attend(q, k, v, mask):
    """Softmax attention of q over k and v (B, NH, Tq, hd) at scale 1/√hd; mask None means
    causal with every key present."""
    if HAS_SDPA:
        if mask is None:
            return F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    scores = (q @ k.transpose(-2, -1)) * (1 / math.sqrt(q.shape[-1]))
    if mask is None:
        T = q.shape[-2]
        mask = torch.ones(T, T, dtype=torch.bool, device=q.device).tril()
    return torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1) @ v


# ---- batches ----


class Batch:
    """A model.Batch as tensors: right-padded sequences, the rows and targets of the scored
    tokens, the logit mask of their allowed sets, and the objective's per-token columns."""

    def __init__(self, js, vocab, device="cpu", dtype=torch.float32):
        """js is a model.Batch as Go's encoding/json writes it (field names as in Go)."""
        seqs, scored = js["Seqs"], js["Scored"] or []
        B, T = len(seqs), max(len(s["Tokens"]) for s in seqs)
        tokens, pos = np.zeros((B, T), np.int64), np.zeros((B, T), np.int64)
        lens = np.array([len(s["Tokens"]) for s in seqs], np.int64)
        for b, s in enumerate(seqs):
            tokens[b, : lens[b]], pos[b, : lens[b]] = s["Tokens"], s["Pos"]
        rows = np.array([sc["Seq"] * T + sc["Index"] - 1 for sc in scored], np.int64)
        targets = np.array([seqs[sc["Seq"]]["Tokens"][sc["Index"]] for sc in scored], np.int64)

        def as_tensor(a, dt=torch.int64):
            return torch.as_tensor(a, dtype=dt, device=device)

        self.tokens, self.pos, self.rows, self.targets = map(as_tensor, (tokens, pos, rows, targets))
        self.lens = None if (lens == T).all() else as_tensor(lens)  # None: the causal fast path
        self.lens_list = lens.tolist()
        self.mask = None
        if any(sc.get("Allowed") is not None for sc in scored):
            mask = np.zeros((len(scored), vocab))
            for i, sc in enumerate(scored):
                if sc.get("Allowed") is not None:
                    mask[i] = MASKED_LOGIT
                    mask[i, sc["Allowed"]] = 0
            self.mask = as_tensor(mask, dtype)
        columns = ("OldLogp", "RefLogp", "Advantage", "PGWeight", "DistillWeight")
        # The columns are float32 in model.Scored: rounded to it first, a float64 peer reads
        # the values a float64 erlgo model does.
        self.columns = [as_tensor([sc.get(c, 0.0) for sc in scored], torch.float32).to(dtype) for c in columns]

    @property
    def num_tokens(self):
        return self.tokens.numel()


def synthetic_batch(cfg, seqs, seq_len, device="cpu", dtype=torch.float32, seed=1):
    """The batch of model/bench_test.go's benchBatch in shape: seqs sequences of seq_len random
    tokens with position ids (3i + s) mod context_len, every token after the first scored, a
    policy-gradient weight of 1/M each and a normal advantage."""
    g = np.random.default_rng(seed)
    js = {"Seqs": [], "Scored": []}
    for s in range(seqs):
        js["Seqs"].append(
            {"Tokens": g.integers(cfg.vocab, size=seq_len).tolist(), "Pos": [(3 * i + s) % cfg.context_len for i in range(seq_len)]}
        )
        js["Scored"] += [{"Seq": s, "Index": i} for i in range(1, seq_len)]
    for sc in js["Scored"]:
        sc["PGWeight"], sc["Advantage"] = 1 / len(js["Scored"]), float(g.normal())
    return js


def log_probs(logits, batch):
    """The log-probability of each scored token under the softmax over its allowed set."""
    if batch.mask is not None:
        logits = logits + batch.mask
    return logits.log_softmax(-1).gather(1, batch.targets[:, None]).squeeze(1)


# ---- the objective (model/objective.go) ----


@dataclass(frozen=True)
class Objective:
    """model.Objective, read from its JSON (the keys of config.json's "objective")."""

    clip_low: float = 0.2
    clip_high: float = 0.28
    kl_coef: float = 0.001
    distill_coef: float = 1.0
    distill_is_clip: float = 0.0

    @classmethod
    def from_json(cls, js):
        return cls(js["clip_low"], js["clip_high"], js["kl_coef"], js["distill_coef"], js["distill_is_clip"])


TERMS = ("loss", "pg", "kl", "distill", "clip_frac", "kl_mean", "ratio_mean", "pg_weight", "distill_weight")


def objective_terms(logp, columns, o):
    """The objective of model.objectiveTerms and its parts, as one tensor in TERMS' order (the
    first is the loss): per scored token, the GRPO clipped surrogate plus kl_coef times the k3
    estimate of KL(π‖π_ref) where its policy-gradient weight is set, and the importance-weighted
    negative log-likelihood where its distillation weight is set; the weights carry the
    aggregation, so the terms are sums."""
    old, ref, adv, w_pg, w_distill = columns
    ratio = torch.exp(torch.clamp(logp - old, max=SAFE_EXP_MAX))
    clipped = ratio.clamp(1 - o.clip_low, 1 + o.clip_high)
    pg = -torch.minimum(ratio * adv, clipped * adv)
    d = ref - logp
    kl = torch.exp(torch.clamp(d, max=SAFE_EXP_MAX)) - d - 1
    if o.distill_is_clip > 0:
        is_weight = torch.clamp(ratio, max=o.distill_is_clip).detach()  # a constant, as in Go
    else:
        is_weight = torch.ones_like(ratio)
    pg_term = (w_pg * pg).sum()
    kl_mean = (w_pg * kl).sum()
    distill = -o.distill_coef * (w_distill * is_weight * logp).sum()
    loss = pg_term + o.kl_coef * kl_mean + distill
    clip_frac = (w_pg * (clipped != ratio)).sum()
    return torch.stack(
        [loss, pg_term, o.kl_coef * kl_mean, distill, clip_frac, kl_mean, (w_pg * ratio).sum(), w_pg.sum(), w_distill.sum()]
    )


# ---- the optimizer (model/adamw.go) ----


@dataclass(frozen=True)
class OptimConfig:
    """model.OptimConfig, with its JSON names."""

    lr: float = 1e-3
    beta1: float = 0.9
    beta2: float = 0.95
    eps: float = 1e-8
    weight_decay: float = 0.01
    clip_norm: float = 1.0
    warmup: int = 10
    schedule: str = "constant"
    total_steps: int = 0
    min_lr_frac: float = 0.1

    def lr_at(self, t):
        """The learning rate of 1-based step t: model.OptimConfig.LRAt."""
        if self.warmup > 0 and t <= self.warmup:
            return self.lr * t / self.warmup
        if self.schedule != "cosine":
            return self.lr
        frac = min(1.0, (t - self.warmup) / max(1.0, self.total_steps - self.warmup))
        min_lr = self.lr * self.min_lr_frac
        return min_lr + 0.5 * (self.lr - min_lr) * (1 + math.cos(math.pi * frac))


def adamw(params, cfg, device_type):
    """torch.optim.AdamW as model.AdamW steps: weight decay on matrices only, the fused kernel
    where this PyTorch has one for the device, else the multi-tensor (foreach) one."""
    groups = [
        {"params": [p for p in params if p.dim() >= 2], "weight_decay": cfg.weight_decay},
        {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
    ]
    kwargs = dict(lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), eps=cfg.eps)
    if device_type == "cuda" and torch.__version__ >= "2":
        try:
            return torch.optim.AdamW(groups, fused=True, **kwargs), "fused"
        except (TypeError, RuntimeError):
            pass
    return torch.optim.AdamW(groups, foreach=True, **kwargs), "foreach"


class Trainer:
    """One update as model.AdamW.Update makes it: the global gradient norm, read back once,
    a refusal of a non-finite one, clipping to clip_norm, and an AdamW step at the scheduled
    rate."""

    def __init__(self, params, cfg, device_type):
        self.params, self.cfg, self.step = params, cfg, 0
        self.opt, self.kind = adamw(params, cfg, device_type)

    def update(self):
        grads = [p.grad for p in self.params]
        if hasattr(torch, "_foreach_norm"):
            norms = torch._foreach_norm(grads)
        else:
            norms = [g.norm() for g in grads]
        norm = float(torch.linalg.vector_norm(torch.stack(norms)))
        if not math.isfinite(norm):
            raise FloatingPointError(f"the gradient norm is {norm}")
        if self.cfg.clip_norm > 0 and norm > self.cfg.clip_norm:
            torch._foreach_mul_(grads, self.cfg.clip_norm / norm)
        self.step += 1
        lr = self.cfg.lr_at(self.step)
        for g in self.opt.param_groups:
            g["lr"] = lr
        self.opt.step()
        return norm, lr


def gradients(policy, batch, obj):
    """The objective's terms (TERMS) and, in each parameter's .grad, its gradient: what
    model.Model.Gradients computes."""
    for p in policy.params:
        p.grad = None
    terms = objective_terms(log_probs(policy.logits(batch), batch), batch.columns, obj)
    terms[0].backward()
    return terms.detach()


# ---- sampling (model/sampler.go) ----


@dataclass(frozen=True)
class SampleConfig:
    """model.SampleConfig, with its JSON names."""

    greedy: bool = False
    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 0.0


def pick(logits, u, sc):
    """Draws a token from each row of logits (B, V) as model.SampleConfig.pick does with the
    uniform numbers u (B,): at the temperature, among the top_k most likely, then the fewest
    most likely whose probability reaches top_p, by the inverse of their cumulative sum."""
    if sc.greedy:
        return logits.argmax(-1)
    probs = torch.softmax(logits / (sc.temperature if sc.temperature > 0 else 1.0), dim=-1)
    p, ids = probs.sort(dim=-1, descending=True, stable=True)
    if 0 < sc.top_k < p.shape[1]:
        p, ids = p[:, : sc.top_k], ids[:, : sc.top_k]
    if 0 < sc.top_p < 1:
        before = p.cumsum(-1) - p  # the mass of the more likely tokens
        p = p.masked_fill(before >= sc.top_p, 0)  # a token is kept while the mass before it is short of top_p
    cum = p.cumsum(-1)
    r = (u.to(cum.dtype) * cum[:, -1]).unsqueeze(1)
    chosen = torch.searchsorted(cum, r, right=True).clamp_(max=p.shape[1] - 1)
    return ids.gather(1, chosen).squeeze(1)


class Decoder:
    """model.Decoder: the prompts run through the model once, their keys and values fill a
    cache, and each later token costs one row per sequence."""

    def __init__(self, policy, prompts, extra, compiled_step=None):
        """prompts is a Batch of the sequences to extend (its scored tokens are ignored); extra
        the most tokens to append to each."""
        cfg = policy.cfg
        self.policy, self.cfg = policy, cfg
        B, T = prompts.tokens.shape
        device = prompts.tokens.device
        kv = []
        h = policy.hidden(prompts.tokens, prompts.pos, prompts.lens, kv)
        self.lens = list(prompts.lens_list)
        last = torch.as_tensor([b * T + n - 1 for b, n in enumerate(self.lens)], device=device)
        self.logits = policy.head(h.reshape(-1, cfg.d_model)[last])
        self.next_pos = prompts.pos.reshape(-1)[last] + 1
        self.capacity = T + extra
        shape = (cfg.layers, B, cfg.heads, self.capacity, cfg.head_dim)
        self.k = torch.zeros(shape, dtype=h.dtype, device=device)
        self.v = torch.zeros(shape, dtype=h.dtype, device=device)
        for layer, (k, v) in enumerate(kv):
            self.k[layer, :, :, :T] = k
            self.v[layer, :, :, :T] = v
        self.batch_index = torch.arange(B, device=device)
        self.compiled_step = compiled_step

    def step(self, tokens):
        """Appends tokens (B,) to the sequences and computes the logits that predict the next."""
        equal = min(self.lens) == max(self.lens)
        if self.compiled_step is not None:
            # One graph for every step: attention over the whole cache, masked by length.
            lens = torch.as_tensor(self.lens, device=tokens.device)
            self.logits = self.compiled_step(self.policy, tokens, self.next_pos, lens, self.k, self.v, self.batch_index)
        else:
            slot = self.lens[0] if equal else torch.as_tensor(self.lens, device=tokens.device)
            visible = max(self.lens) + 1
            lens = None if equal else torch.as_tensor(self.lens, device=tokens.device)
            self.logits = decode_step(self.policy, tokens, self.next_pos, slot, visible, lens, self.k, self.v, self.batch_index)
        self.lens = [n + 1 for n in self.lens]
        self.next_pos = self.next_pos + 1


def decode_step(policy, tokens, pos, slot, visible, lens, k_cache, v_cache, batch_index):
    """One token per sequence through the model over the KV cache: its key and value are
    written at slot (an int when every sequence has the same length, else a (B,) tensor of each
    one's), and its query attends the first visible cached rows, of which sequence b sees
    lens[b] + 1 (lens None: all)."""
    cfg = policy.cfg
    B, NH, hd = tokens.shape[0], cfg.heads, cfg.head_dim
    x = policy.block_inputs(tokens, pos)
    mask = None
    if lens is not None:
        mask = (torch.arange(visible, device=tokens.device)[None, :] <= lens[:, None])[:, None, None, :]
    for layer in range(cfg.layers):
        p = f"h.{layer}."
        qkv = policy.linear(policy.layer_norm(x, p + "ln_1"), p + "attn.c_attn")
        q, k, v = qkv.view(B, 3, NH, hd).unbind(1)
        if isinstance(slot, int):
            k_cache[layer, :, :, slot] = k
            v_cache[layer, :, :, slot] = v
        else:
            k_cache[layer, batch_index, :, slot] = k
            v_cache[layer, batch_index, :, slot] = v
        kc, vc = k_cache[layer, :, :, :visible], v_cache[layer, :, :, :visible]
        att = attend_step(q[:, :, None], kc, vc, mask).reshape(B, cfg.d_model)
        x = policy.mlp(x + policy.linear(att, p + "attn.c_proj"), p)
    return policy.head(policy.layer_norm(x, "ln_f"))


def decode_step_fixed(policy, tokens, pos, lens, k_cache, v_cache, batch_index):
    """decode_step with fixed shapes, for torch.compile: attention over the whole cache."""
    return decode_step(policy, tokens, pos, lens, k_cache.shape[3], lens, k_cache, v_cache, batch_index)


def attend_step(q, k, v, mask):
    """Attention of one query per sequence (B, NH, 1, hd) over cached keys and values."""
    if HAS_SDPA:
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    scores = (q @ k.transpose(-2, -1)) * (1 / math.sqrt(q.shape[-1]))
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return torch.softmax(scores, dim=-1) @ v


def generate(policy, prompts, max_new, sc, uniforms=None, generator=None, compiled_step=None):
    """model.Model.Generate without stop tokens or allowed sets (as BenchmarkSample runs it):
    max_new tokens after every prompt, each drawn by pick from a uniform number (uniforms[t] for
    the t-th token when given, else drawn from generator), with its log-probability at
    temperature 1. As in Go, each step's tokens and log-probabilities are read back to the host,
    where a rollout decides what comes next. Returns (B, max_new) lists of tokens and of
    log-probabilities."""
    dec = Decoder(policy, prompts, max_new - 1, compiled_step)
    B, device = prompts.tokens.shape[0], prompts.tokens.device
    tokens, logps = [], []
    for t in range(max_new):
        if uniforms is not None:
            u = torch.as_tensor(uniforms[t], dtype=torch.float64, device=device)
        else:
            u = torch.rand(B, generator=generator, dtype=torch.float64).to(device)
        tok = pick(dec.logits, u, sc)
        logp = dec.logits.log_softmax(-1).gather(1, tok[:, None]).squeeze(1)
        tokens.append(tok.cpu())
        logps.append(logp.cpu())
        if t < max_new - 1:
            dec.step(tok)
    return torch.stack(tokens, 1).tolist(), torch.stack(logps, 1).tolist()

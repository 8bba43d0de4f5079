//go:build gpu || cudaemu

package model

import (
	"sync"

	"gorgonia.org/tensor"

	"github.com/erlgo/erlgo/kernels/cuda"
)

func init() { devices["cuda"] = cudaBackend }

var (
	cudaOnce sync.Once
	cudaBe   *backend[float32]
	cudaErr  error
)

// cudaBackend is the float32 backend on the process's GPU (package kernels/cuda): the kernels,
// the objective's reductions and the sampler's draw run there, on its memory, which a tensor
// gives back to the device's pool when it is garbage. ERLGO_CUDA_HOST_OPS=objective,sample
// sends those two back to the host (see cuda.Open).
func cudaBackend() (*backend[float32], error) {
	cudaOnce.Do(func() {
		dev, err := cuda.Open()
		if err != nil {
			cudaErr = err
			return
		}
		cudaBe = newCUDABackend(dev)
	})
	return cudaBe, cudaErr
}

func newCUDABackend(dev *cuda.Device) *backend[float32] {
	be := &backend[float32]{
		dtype: tensor.Float32,
		alloc: dev.Alloc, allocIndex: dev.AllocIndex, free: dev.Free, freeIndex: dev.FreeIndex,
		upload: dev.Upload, uploadIndex: dev.UploadIndex, download: dev.Download, downloadIndex: dev.DownloadIndex,
		zero: dev.Zero, copy: dev.Copy,
		gemm: dev.Gemm, addBias: dev.AddBias, sumRows: dev.SumRows,
		layerNormForward: dev.LayerNormForward, layerNormBackward: dev.LayerNormBackward,
		attentionForward: dev.AttentionForward, attentionBackward: dev.AttentionBackward,
		geluForward: dev.GeluForward, geluBackward: dev.GeluBackward, add: dev.Add,
		gatherRows: dev.GatherRows, scatterRows: dev.ScatterRows,
		logSoftmaxGatherForward: dev.LogSoftmaxGatherForward, logSoftmaxGatherBackward: dev.LogSoftmaxGatherBackward,
		embeddingForward: dev.EmbeddingForward, attentionStep: dev.AttentionStep, copyRows: dev.CopyRows,
		scale: dev.Scale, sumSquares: dev.SumSquaresAll, adamW: dev.AdamW,
	}
	be.objective = func(o Objective, s tokenStats[float32], dlogp []float32) Terms {
		if dev.HostOp("objective") {
			return objectiveOnHost(be, o, s, dlogp)
		}
		co := cuda.Objective{ClipLow: o.ClipLow, ClipHigh: o.ClipHigh, KLCoef: o.KLCoef, DistillCoef: o.DistillCoef, DistillISClip: o.DistillISClip}
		if dlogp != nil {
			dev.ObjectiveGradient(co, dlogp, s.logp, s.old, s.ref, s.adv, s.wPG, s.wDistill)
			return Terms{}
		}
		t := dev.ObjectiveTerms(co, s.logp, s.old, s.ref, s.adv, s.wPG, s.wDistill)
		return Terms{Loss: t.PG + t.KL + t.Distill, PG: t.PG, KL: t.KL, Distill: t.Distill, ClipFrac: t.ClipFrac,
			KLMean: t.KLMean, RatioMean: t.RatioMean, PGWeight: t.PGWeight, DistillWeight: t.DistillWeight}
	}
	be.sample = func(tokens []int32, logp, logits []float32, ids, offsets []int32, u []float32, B, V int, sc SampleConfig) {
		if dev.HostOp("sample") {
			sampleOnHost(be, tokens, logp, logits, ids, offsets, u, B, V, sc)
			return
		}
		dev.Sample(tokens, logp, logits, ids, offsets, u, B, V, sc.Greedy, sc.Temperature, sc.TopK, sc.TopP)
	}
	return be
}

// objectiveOnHost is the objective on the host, through downloads and an upload of dlogp.
func objectiveOnHost(be *backend[float32], o Objective, s tokenStats[float32], dlogp []float32) Terms {
	host := func(x []float32) []float32 {
		if x == nil {
			return nil
		}
		h := make([]float32, len(x))
		be.download(h, x)
		return h
	}
	hd := host(dlogp)
	t := objectiveTerms(o, tokenStats[float32]{host(s.logp), host(s.old), host(s.ref), host(s.adv), host(s.wPG), host(s.wDistill)}, hd)
	if dlogp != nil {
		be.upload(dlogp, hd)
	}
	return t
}

// sampleOnHost is the sampler's draw on the host, through downloads and uploads.
func sampleOnHost(be *backend[float32], tokens []int32, logp, logits []float32, ids, offsets []int32, u []float32, B, V int, sc SampleConfig) {
	hLogits, hU := make([]float32, B*V), make([]float32, B)
	hIDs, hOffsets := make([]int32, len(ids)), make([]int32, B+1)
	be.download(hLogits, logits)
	be.download(hU, u)
	be.downloadIndex(hIDs, ids)
	be.downloadIndex(hOffsets, offsets)
	hTokens, hLogp := make([]int32, B), make([]float32, B)
	sampleRows(hTokens, hLogp, hLogits, hIDs, hOffsets, hU, B, V, sc)
	be.uploadIndex(tokens, hTokens)
	be.upload(logp, hLogp)
}

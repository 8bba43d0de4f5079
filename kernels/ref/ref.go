// Package ref holds the plain float64 references of the kernels of package kernels: each kernel
// written as the obvious loops, with no blocking, no concurrency and no shortcuts, so that it can
// be checked by reading. The kernels' tests hold every kernel to its reference and every backward
// reference to finite differences of its forward one; the model runs its float64 graph, the one
// its gradient check differentiates, through these.
package ref

import "math"

// Gemm computes C = alpha·op(A)·op(B) + beta·C for row-major matrices (see kernels.Gemm).
func Gemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	for i := range m {
		for j := range n {
			var s float64
			for l := range k {
				ai, bi := i*lda+l, l*ldb+j
				if transA {
					ai = l*lda + i
				}
				if transB {
					bi = j*ldb + l
				}
				s += a[ai] * b[bi]
			}
			if beta == 0 {
				c[i*ldc+j] = alpha * s
			} else {
				c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
			}
		}
	}
}

// EmbeddingForward sets out[i,:] = wte[tokens[i],:] + wpe[pos[i],:].
func EmbeddingForward(out, wte, wpe []float64, tokens, pos []int32, C int) {
	for i := range tokens {
		for j := range C {
			out[i*C+j] = wte[int(tokens[i])*C+j] + wpe[int(pos[i])*C+j]
		}
	}
}

// EmbeddingBackward adds row i of dout into rows tokens[i] of dwte and pos[i] of dwpe.
func EmbeddingBackward(dwte, dwpe, dout []float64, tokens, pos []int32, C int) {
	for i := range tokens {
		for j := range C {
			dwte[int(tokens[i])*C+j] += dout[i*C+j]
			dwpe[int(pos[i])*C+j] += dout[i*C+j]
		}
	}
}

// LayerNormForward normalises each row of x, scales by weight and adds bias, saving mean and rstd.
func LayerNormForward(out, mean, rstd, x, weight, bias []float64, N, C int) {
	for i := range N {
		var m float64
		for j := range C {
			m += x[i*C+j]
		}
		m /= float64(C)
		var v float64
		for j := range C {
			v += (x[i*C+j] - m) * (x[i*C+j] - m)
		}
		v /= float64(C)
		r := 1 / math.Sqrt(v+1e-5)
		for j := range C {
			out[i*C+j] = (x[i*C+j]-m)*r*weight[j] + bias[j]
		}
		mean[i], rstd[i] = m, r
	}
}

// LayerNormBackward writes the gradients of LayerNormForward; any of dx, dweight, dbias may be nil.
func LayerNormBackward(dx, dweight, dbias, dout, x, weight, mean, rstd []float64, N, C int) {
	clear(dweight)
	clear(dbias)
	for i := range N {
		xhat := make([]float64, C)
		var meanG, meanGX float64
		for j := range C {
			xhat[j] = (x[i*C+j] - mean[i]) * rstd[i]
			g := weight[j] * dout[i*C+j]
			meanG += g / float64(C)
			meanGX += g * xhat[j] / float64(C)
			if dweight != nil {
				dweight[j] += dout[i*C+j] * xhat[j]
			}
			if dbias != nil {
				dbias[j] += dout[i*C+j]
			}
		}
		if dx != nil {
			for j := range C {
				dx[i*C+j] = rstd[i] * (weight[j]*dout[i*C+j] - meanG - xhat[j]*meanGX)
			}
		}
	}
}

// visible reports whether query i of a sequence of valid length L sees key j.
func visible(i, j, L int) bool { return j <= i && j < L }

func seqLen(lens []int32, b, T int) int {
	if lens == nil {
		return T
	}
	return int(lens[b])
}

// AttentionForward is causal multi-head attention over packed q|k|v (see kernels.AttentionForward).
func AttentionForward(out, att, qkv []float64, lens []int32, B, T, C, NH int) {
	hd := C / NH
	scale := 1 / math.Sqrt(float64(hd))
	for b := range B {
		L := seqLen(lens, b, T)
		for h := range NH {
			for i := range T {
				q := qkv[(b*T+i)*3*C+h*hd:]
				p := att[((b*NH+h)*T+i)*T:]
				mx := math.Inf(-1)
				for j := range T {
					p[j] = 0
					if visible(i, j, L) {
						k := qkv[(b*T+j)*3*C+C+h*hd:]
						var s float64
						for d := range hd {
							s += q[d] * k[d]
						}
						p[j] = s * scale
						mx = math.Max(mx, p[j])
					}
				}
				var sum float64
				for j := range T {
					if visible(i, j, L) {
						p[j] = math.Exp(p[j] - mx)
						sum += p[j]
					}
				}
				for j := range T {
					if visible(i, j, L) {
						p[j] /= sum
					}
				}
				o := out[(b*T+i)*C+h*hd:]
				for d := range hd {
					o[d] = 0
					for j := range T {
						if visible(i, j, L) {
							o[d] += p[j] * qkv[(b*T+j)*3*C+2*C+h*hd+d]
						}
					}
				}
			}
		}
	}
}

// AttentionBackward writes d(qkv) from dout and the probabilities att of the forward pass.
func AttentionBackward(dqkv, dout, qkv, att []float64, lens []int32, B, T, C, NH int) {
	hd := C / NH
	scale := 1 / math.Sqrt(float64(hd))
	clear(dqkv[:B*T*3*C])
	for b := range B {
		L := seqLen(lens, b, T)
		for h := range NH {
			for i := range T {
				p := att[((b*NH+h)*T+i)*T:]
				do := dout[(b*T+i)*C+h*hd:]
				// dp[j] = dO_i·v_j, then the softmax Jacobian: ds_j = p_j(dp_j − Σ_l p_l dp_l).
				dp := make([]float64, T)
				var dot float64
				for j := range T {
					if visible(i, j, L) {
						for d := range hd {
							dp[j] += do[d] * qkv[(b*T+j)*3*C+2*C+h*hd+d]
						}
						dot += p[j] * dp[j]
					}
				}
				for j := range T {
					if !visible(i, j, L) {
						continue
					}
					ds := p[j] * (dp[j] - dot)
					for d := range hd {
						qi := (b*T+i)*3*C + h*hd + d
						kj := (b*T+j)*3*C + C + h*hd + d
						vj := (b*T+j)*3*C + 2*C + h*hd + d
						dqkv[qi] += ds * qkv[kj] * scale
						dqkv[kj] += ds * qkv[qi] * scale
						dqkv[vj] += p[j] * do[d]
					}
				}
			}
		}
	}
}

// geluTanh is GPT-2's GELU, 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), written as published.
func geluTanh(x float64) float64 {
	return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
}

// GeluForward applies the tanh approximation of GELU.
func GeluForward(out, x []float64) {
	for i, v := range x {
		out[i] = geluTanh(v)
	}
}

// GeluBackward writes dx = dout·gelu'(x).
func GeluBackward(dx, x, dout []float64) {
	const k = 0.7978845608028654 // √(2/π)
	for i, v := range x {
		u := k * (v + 0.044715*v*v*v)
		th := math.Tanh(u)
		sech2 := 1 - th*th
		grad := 0.5*(1+th) + 0.5*v*sech2*k*(1+3*0.044715*v*v)
		dx[i] = dout[i] * grad
	}
}

func logSumExp(row []float64) float64 {
	mx := math.Inf(-1)
	for _, v := range row {
		mx = math.Max(mx, v)
	}
	var s float64
	for _, v := range row {
		s += math.Exp(v - mx)
	}
	return mx + math.Log(s)
}

// LogSoftmaxGatherForward writes the log-probability of each row's target (0 where the target is negative) and each row's logsumexp.
func LogSoftmaxGatherForward(logp, lse, logits []float64, targets []int32, N, V int) {
	for i := range N {
		row := logits[i*V : (i+1)*V]
		lse[i] = logSumExp(row)
		logp[i] = 0
		if t := targets[i]; t >= 0 {
			logp[i] = row[t] - lse[i]
		}
	}
}

// LogSoftmaxGatherBackward writes dlogits = dlogp·(onehot(target) − softmax(logits)), zero rows where the target is negative.
func LogSoftmaxGatherBackward(dlogits, dlogp, logits []float64, targets []int32, N, V int) {
	for i := range N {
		row := logits[i*V : (i+1)*V]
		l := logSumExp(row)
		for j := range V {
			dlogits[i*V+j] = 0
			if t := int(targets[i]); t >= 0 {
				onehot := 0.0
				if j == t {
					onehot = 1
				}
				dlogits[i*V+j] = dlogp[i] * (onehot - math.Exp(row[j]-l))
			}
		}
	}
}

// GatherRows copies rows idx[r] of x into row r of out.
func GatherRows(out, x []float64, idx []int32, C int) {
	for r, i := range idx {
		for j := range C {
			out[r*C+j] = x[int(i)*C+j]
		}
	}
}

// ScatterRows zeroes dx (rows×C) and adds row r of dout into row idx[r].
func ScatterRows(dx, dout []float64, idx []int32, rows, C int) {
	clear(dx[:rows*C])
	for r, i := range idx {
		for j := range C {
			dx[int(i)*C+j] += dout[r*C+j]
		}
	}
}

// Add sets out = a + b.
func Add(out, a, b []float64) {
	for i := range out {
		out[i] = a[i] + b[i]
	}
}

// AddBias adds bias to every row of x.
func AddBias(x, bias []float64, N, C int) {
	for i := range N {
		for j := range C {
			x[i*C+j] += bias[j]
		}
	}
}

// SumRows sets dbias[j] = Σ_i dout[i,j].
func SumRows(dbias, dout []float64, N, C int) {
	for j := range C {
		dbias[j] = 0
		for i := range N {
			dbias[j] += dout[i*C+j]
		}
	}
}

// AdamW takes one AdamW step (PyTorch's formulation, decoupled weight decay).
func AdamW(param, grad, m, v []float64, lr, beta1, beta2, eps, weightDecay float64, t int) {
	for i := range param {
		m[i] = beta1*m[i] + (1-beta1)*grad[i]
		v[i] = beta2*v[i] + (1-beta2)*grad[i]*grad[i]
		mhat := m[i] / (1 - math.Pow(beta1, float64(t)))
		vhat := v[i] / (1 - math.Pow(beta2, float64(t)))
		param[i] -= lr * (mhat/(math.Sqrt(vhat)+eps) + weightDecay*param[i])
	}
}

// SumSquares returns Σ x[i]².
func SumSquares(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v * v
	}
	return s
}

// Scale multiplies x by s.
func Scale(x []float64, s float64) {
	for i := range x {
		x[i] *= s
	}
}

// AttentionStep attends one new query per sequence (the q third of qkv, B×3C) over the first
// lens[b] rows of the KV caches kc and vc (B×capacity×C), writing out (B×C).
func AttentionStep(out, qkv, kc, vc []float64, lens []int32, B, capacity, C, NH int) {
	hd := C / NH
	scale := 1 / math.Sqrt(float64(hd))
	for b := range B {
		n := int(lens[b])
		for h := range NH {
			o := out[b*C+h*hd : b*C+(h+1)*hd]
			clear(o)
			if n == 0 {
				continue
			}
			q := qkv[b*3*C+h*hd:]
			scores := make([]float64, n)
			mx := math.Inf(-1)
			for j := range n {
				k := kc[(b*capacity+j)*C+h*hd:]
				for d := range hd {
					scores[j] += q[d] * k[d]
				}
				scores[j] *= scale
				mx = math.Max(mx, scores[j])
			}
			var sum float64
			for j := range scores {
				scores[j] = math.Exp(scores[j] - mx)
				sum += scores[j]
			}
			for j := range n {
				v := vc[(b*capacity+j)*C+h*hd:]
				for d := range hd {
					o[d] += scores[j] / sum * v[d]
				}
			}
		}
	}
}

// CopyRows copies C columns from row srcRows[i] of src (rows srcStride apart) to row
// dstRows[i] of dst (rows dstStride apart).
func CopyRows(dst []float64, dstStride int, src []float64, srcStride int, dstRows, srcRows []int32, C int) {
	for i, r := range srcRows {
		for j := range C {
			dst[int(dstRows[i])*dstStride+j] = src[int(r)*srcStride+j]
		}
	}
}

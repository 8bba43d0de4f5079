package kernels

import "math"

// The references below are the kernels written as the obvious loops in float64, with no
// blocking, no concurrency and no shortcuts, so that they can be checked by reading. The
// tests hold every kernel to its reference, and every backward reference to finite
// differences of the forward one.

func refGemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
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

func refEmbeddingForward(out, wte, wpe []float64, tokens, pos []int32, C int) {
	for i := range tokens {
		for j := range C {
			out[i*C+j] = wte[int(tokens[i])*C+j] + wpe[int(pos[i])*C+j]
		}
	}
}

func refEmbeddingBackward(dwte, dwpe, dout []float64, tokens, pos []int32, C int) {
	for i := range tokens {
		for j := range C {
			dwte[int(tokens[i])*C+j] += dout[i*C+j]
			dwpe[int(pos[i])*C+j] += dout[i*C+j]
		}
	}
}

func refLayerNormForward(out, mean, rstd, x, weight, bias []float64, N, C int) {
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

func refLayerNormBackward(dx, dweight, dbias, dout, x, weight, mean, rstd []float64, N, C int) {
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
			dweight[j] += dout[i*C+j] * xhat[j]
			dbias[j] += dout[i*C+j]
		}
		for j := range C {
			dx[i*C+j] = rstd[i] * (weight[j]*dout[i*C+j] - meanG - xhat[j]*meanGX)
		}
	}
}

// refVisible reports whether query i of a sequence of valid length L sees key j.
func refVisible(i, j, L int) bool { return j <= i && j < L }

func refSeqLen(lens []int32, b, T int) int {
	if lens == nil {
		return T
	}
	return int(lens[b])
}

func refAttentionForward(out, att, qkv []float64, lens []int32, B, T, C, NH int) {
	hd := C / NH
	scale := 1 / math.Sqrt(float64(hd))
	for b := range B {
		L := refSeqLen(lens, b, T)
		for h := range NH {
			for i := range T {
				q := qkv[(b*T+i)*3*C+h*hd:]
				p := att[((b*NH+h)*T+i)*T:]
				mx := math.Inf(-1)
				for j := range T {
					p[j] = 0
					if refVisible(i, j, L) {
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
					if refVisible(i, j, L) {
						p[j] = math.Exp(p[j] - mx)
						sum += p[j]
					}
				}
				for j := range T {
					if refVisible(i, j, L) {
						p[j] /= sum
					}
				}
				o := out[(b*T+i)*C+h*hd:]
				for d := range hd {
					o[d] = 0
					for j := range T {
						if refVisible(i, j, L) {
							o[d] += p[j] * qkv[(b*T+j)*3*C+2*C+h*hd+d]
						}
					}
				}
			}
		}
	}
}

func refAttentionBackward(dqkv, dout, qkv, att []float64, lens []int32, B, T, C, NH int) {
	hd := C / NH
	scale := 1 / math.Sqrt(float64(hd))
	clear(dqkv[:B*T*3*C])
	for b := range B {
		L := refSeqLen(lens, b, T)
		for h := range NH {
			for i := range T {
				p := att[((b*NH+h)*T+i)*T:]
				do := dout[(b*T+i)*C+h*hd:]
				// dp[j] = dO_i·v_j, then the softmax Jacobian: ds_j = p_j(dp_j − Σ_l p_l dp_l).
				dp := make([]float64, T)
				var dot float64
				for j := range T {
					if refVisible(i, j, L) {
						for d := range hd {
							dp[j] += do[d] * qkv[(b*T+j)*3*C+2*C+h*hd+d]
						}
						dot += p[j] * dp[j]
					}
				}
				for j := range T {
					if !refVisible(i, j, L) {
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

func refGeluForward(out, x []float64) {
	for i, v := range x {
		out[i] = geluTanh(v)
	}
}

func refGeluBackward(dx, x, dout []float64) {
	const k = 0.7978845608028654 // √(2/π)
	for i, v := range x {
		u := k * (v + 0.044715*v*v*v)
		th := math.Tanh(u)
		sech2 := 1 - th*th
		grad := 0.5*(1+th) + 0.5*v*sech2*k*(1+3*0.044715*v*v)
		dx[i] = dout[i] * grad
	}
}

func refLogSumExp(row []float64) float64 {
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

func refLogSoftmaxGatherForward(logp, lse, logits []float64, targets []int32, N, V int) {
	for i := range N {
		row := logits[i*V : (i+1)*V]
		lse[i] = refLogSumExp(row)
		logp[i] = 0
		if t := targets[i]; t >= 0 {
			logp[i] = row[t] - lse[i]
		}
	}
}

func refLogSoftmaxGatherBackward(dlogits, dlogp, logits []float64, targets []int32, N, V int) {
	for i := range N {
		row := logits[i*V : (i+1)*V]
		l := refLogSumExp(row)
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

func refGatherRows(out, x []float64, idx []int32, C int) {
	for r, i := range idx {
		for j := range C {
			out[r*C+j] = x[int(i)*C+j]
		}
	}
}

func refScatterRows(dx, dout []float64, idx []int32, rows, C int) {
	clear(dx[:rows*C])
	for r, i := range idx {
		for j := range C {
			dx[int(i)*C+j] += dout[r*C+j]
		}
	}
}

func refAdd(out, a, b []float64) {
	for i := range out {
		out[i] = a[i] + b[i]
	}
}

func refAddBias(x, bias []float64, N, C int) {
	for i := range N {
		for j := range C {
			x[i*C+j] += bias[j]
		}
	}
}

func refSumRows(dbias, dout []float64, N, C int) {
	for j := range C {
		dbias[j] = 0
		for i := range N {
			dbias[j] += dout[i*C+j]
		}
	}
}

func refAdamW(param, grad, m, v []float64, lr, beta1, beta2, eps, weightDecay float64, t int) {
	for i := range param {
		m[i] = beta1*m[i] + (1-beta1)*grad[i]
		v[i] = beta2*v[i] + (1-beta2)*grad[i]*grad[i]
		mhat := m[i] / (1 - math.Pow(beta1, float64(t)))
		vhat := v[i] / (1 - math.Pow(beta2, float64(t)))
		param[i] -= lr * (mhat/(math.Sqrt(vhat)+eps) + weightDecay*param[i])
	}
}

func refSumSquares(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v * v
	}
	return s
}

func refScale(x []float64, s float64) {
	for i := range x {
		x[i] *= s
	}
}
